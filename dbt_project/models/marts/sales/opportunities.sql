with

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

spells as (

    select * from {{ ref('int_opportunity_stage_spells') }}

),

stage_activity as (

    select
        opportunity_id,
        count(*) as stage_change_count,
        max(changed_at) as last_stage_change_at
    from spells
    group by 1

),

final as (

    select
        opportunities.*,
        cast(opportunities.amount_cny * opportunities.stage_probability as {{ sfa.type_amount() }}) as weighted_amount_cny,
        coalesce(stage_activity.stage_change_count, 0) as stage_change_count,
        coalesce(stage_activity.last_stage_change_at, opportunities.stage_changed_at, opportunities.created_at)
            as last_stage_change_at,
        {{ sfa.days_between(
            'coalesce(stage_activity.last_stage_change_at, opportunities.stage_changed_at, opportunities.created_at)',
            sfa.as_of_date()) }} as days_since_stage_change,
        opportunities.is_open and {{ sfa.days_between(
            'coalesce(stage_activity.last_stage_change_at, opportunities.stage_changed_at, opportunities.created_at)',
            sfa.as_of_date()) }} >= {{ var('stalled_opportunity_days') }} as is_stalled
    from opportunities
    left join stage_activity
        on opportunities.opportunity_id = stage_activity.opportunity_id

)

select * from final
