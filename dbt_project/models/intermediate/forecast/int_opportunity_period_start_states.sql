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

ranked as (

    select
        periods.period_month,
        spells.opportunity_id,
        spells.to_stage as stage_at_start,
        spells.amount_cny_at_change as amount_cny_at_start,
        spells.close_date_at_change as close_date_at_start,
        spells.forecast_category_at_change as forecast_category_at_start,
        row_number() over (
            partition by periods.period_month, spells.opportunity_id
            order by spells.changed_at desc, spells.change_sequence desc
        ) as state_rank
    from periods
    inner join spells
        on spells.changed_at < periods.period_month

),

final as (

    select
        ranked.period_month,
        ranked.opportunity_id,
        opportunities.owner_id,
        opportunities.team_id,
        opportunities.team_name,
        opportunities.product_line,
        ranked.stage_at_start,
        stages.probability as stage_probability,
        ranked.amount_cny_at_start,
        ranked.close_date_at_start,
        ranked.forecast_category_at_start,
        {{ sfa.days_between('opportunities.created_at', 'ranked.period_month') }} as age_days_at_start,
        {{ sfa.bucket(sfa.days_between('opportunities.created_at', 'ranked.period_month'), var('forecast_age_bucket_days')) }} as age_bucket,
        {{ sfa.bucket('ranked.amount_cny_at_start', var('forecast_size_bucket_cny')) }} as size_bucket
    from ranked
    inner join opportunities
        on ranked.opportunity_id = opportunities.opportunity_id
    inner join stages
        on ranked.stage_at_start = stages.stage
    where ranked.state_rank = 1
        and not stages.is_closed
        and {{ sfa.month_start('ranked.close_date_at_start') }} = ranked.period_month

)

select * from final
