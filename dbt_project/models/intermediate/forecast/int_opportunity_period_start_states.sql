-- What the pipeline looked like at the start of each forecast month: for every opportunity, its
-- latest stage change before the month began (stage, amount, expected close date and forecast
-- category at that change). Kept: deals then open and expected to close inside that month.

with

periods as (

    select * from {{ ref('int_forecast_periods') }}

),

spells as (

    select * from {{ ref('int_opportunity_stage_spells') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

stages as (

    select * from {{ ref('opportunity_stages') }}

),

-- The state at a month's start is the one spell whose change came before the month and whose next
-- change (if any) did not: the opportunity's latest change before the month, the last in sequence
-- when several share a timestamp, since next_changed_at is the next change in that same order.
-- A spell only counts in the month its expected close date falls in, so each spell meets at most
-- one period by equality instead of every period before it.
start_states as (

    select
        periods.period_month,
        spells.opportunity_id,
        spells.to_stage as stage_at_start,
        spells.amount_cny_at_change as amount_cny_at_start,
        spells.close_date_at_change as close_date_at_start,
        spells.forecast_category_at_change as forecast_category_at_start
    from spells
    inner join periods
        on {{ sfa.month_start('spells.close_date_at_change') }} = periods.period_month
    where spells.changed_at < periods.period_month
        and (spells.next_changed_at is null or spells.next_changed_at >= periods.period_month)

),

final as (

    select
        start_states.period_month,
        start_states.opportunity_id,
        opportunities.owner_id,
        opportunities.team_id,
        opportunities.team_name,
        opportunities.product_line,
        start_states.stage_at_start,
        stages.probability as stage_probability,
        start_states.amount_cny_at_start,
        start_states.close_date_at_start,
        start_states.forecast_category_at_start,
        {{ sfa.days_between('opportunities.created_at', 'start_states.period_month') }} as age_days_at_start,
        {{ sfa.bucket(sfa.days_between('opportunities.created_at', 'start_states.period_month'), var('forecast_age_bucket_days')) }} as age_bucket,
        {{ sfa.bucket('start_states.amount_cny_at_start', var('forecast_size_bucket_cny')) }} as size_bucket
    from start_states
    inner join opportunities
        on start_states.opportunity_id = opportunities.opportunity_id
    inner join stages
        on start_states.stage_at_start = stages.stage
    where not stages.is_closed

)

select * from final
