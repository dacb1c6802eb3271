with

spells as (

    select * from {{ ref('int_opportunity_stage_spells') }}

),

stages as (

    select * from {{ ref('opportunity_stages') }}

),

entries as (

    select
        to_stage as stage,
        count(distinct opportunity_id) as opportunities_entered,
        {{ sfa.median('days_in_stage') }} as median_days_in_stage,
        {{ sfa.mean('days_in_stage') }} as mean_days_in_stage
    from spells
    group by 1

),

transitions as (

    select
        coalesce(from_stage, 'created') as from_stage,
        to_stage,
        count(*) as transitions,
        count(distinct opportunity_id) as opportunities
    from spells
    group by 1, 2

),

final as (

    select
        transitions.from_stage,
        transitions.to_stage,
        from_stages.stage_order as from_stage_order,
        to_stages.stage_order as to_stage_order,
        transitions.transitions,
        transitions.opportunities,
        entries.opportunities_entered as from_stage_entered,
        {{ sfa.ratio('transitions.opportunities', 'entries.opportunities_entered', 4) }} as stage_conversion_rate,
        entries.median_days_in_stage as median_days_in_from_stage,
        entries.mean_days_in_stage as mean_days_in_from_stage
    from transitions
    left join entries
        on transitions.from_stage = entries.stage
    left join stages as from_stages
        on transitions.from_stage = from_stages.stage
    left join stages as to_stages
        on transitions.to_stage = to_stages.stage

)

select * from final
