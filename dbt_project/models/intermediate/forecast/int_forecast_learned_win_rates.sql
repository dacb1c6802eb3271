-- The "historical" forecast model's win probabilities, learned separately for each forecast month
-- from deals that had closed before that month began (no look-ahead): for every open stage a
-- closed deal passed through, its outcome, by stage, deal age at entering the stage and size.

with

periods as (

    select * from {{ ref('int_forecast_periods') }}

),

spells as (

    select * from {{ ref('int_opportunity_stage_spells') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}
    where is_won or is_lost

),

stages as (

    select * from {{ ref('opportunity_stages') }}
    where not is_closed

),

closed_stage_visits as (

    select
        spells.opportunity_id,
        spells.to_stage as stage,
        {{ sfa.bucket(sfa.days_between('opportunities.created_at', 'spells.changed_at'), var('forecast_age_bucket_days')) }} as age_bucket,
        {{ sfa.bucket('spells.amount_cny_at_change', var('forecast_size_bucket_cny')) }} as size_bucket,
        opportunities.close_date,
        opportunities.is_won
    from spells
    inner join opportunities
        on spells.opportunity_id = opportunities.opportunity_id
    inner join stages
        on spells.to_stage = stages.stage

),

learned as (

    select
        periods.period_month,
        visits.stage,
        visits.age_bucket,
        visits.size_bucket,
        count(distinct visits.opportunity_id) as closed_deals,
        count(distinct case when visits.is_won then visits.opportunity_id end) as won_deals
    from periods
    inner join closed_stage_visits as visits
        on visits.close_date < periods.period_month
    group by 1, 2, 3, 4

),

final as (

    select
        learned.*,
        sum(closed_deals) over (partition by period_month, stage) as stage_closed_deals,
        sum(won_deals) over (partition by period_month, stage) as stage_won_deals
    from learned

)

select * from final
