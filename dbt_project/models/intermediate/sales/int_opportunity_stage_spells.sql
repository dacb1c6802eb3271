-- Each stage change opens a "spell" in `to_stage` that lasts until the opportunity's next change
-- (or, for the current stage, until today for open deals). Days in stage are whole calendar days.

with

changes as (

    select * from {{ ref('stg_crm__opportunity_stage_changes') }}
    where not is_deleted

),

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

sequenced as (

    select
        changes.*,
        row_number() over (
            partition by changes.opportunity_id
            order by changes.changed_at, changes.stage_change_id
        ) as change_sequence,
        lead(changes.changed_at) over (
            partition by changes.opportunity_id
            order by changes.changed_at, changes.stage_change_id
        ) as next_changed_at
    from changes

),

final as (

    select
        sequenced.stage_change_id,
        sequenced.opportunity_id,
        sequenced.change_sequence,
        sequenced.from_stage,
        sequenced.to_stage,
        sequenced.changed_at,
        sequenced.next_changed_at,
        sequenced.next_changed_at is null as is_current_stage,
        case
            when sequenced.next_changed_at is not null
                then {{ sfa.days_between('sequenced.changed_at', 'sequenced.next_changed_at') }}
            when opportunities.is_open
                then {{ sfa.days_between('sequenced.changed_at', sfa.as_of_date()) }}
        end as days_in_stage,
        sequenced.amount as amount_at_change,
        {{ sfa.to_reporting_currency('sequenced.amount', 'opportunities.rate_to_cny') }} as amount_cny_at_change,
        sequenced.close_date as close_date_at_change,
        sequenced.forecast_category as forecast_category_at_change,
        opportunities.owner_id,
        opportunities.team_name,
        opportunities.is_open,
        opportunities.is_won,
        opportunities.is_lost
    from sequenced
    inner join opportunities
        on sequenced.opportunity_id = opportunities.opportunity_id

)

select * from final
