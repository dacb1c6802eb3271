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

-- A deal counts once in a bucket for a month when any of its visits to the bucket closed before
-- the month began. period_month is a month's first day, so that is closing in an earlier month:
-- one row per (deal, bucket) with its first close month (and first won close month) is enough,
-- and each period adds up the per-month counts of earlier months instead of rescanning every visit.
bucket_deals as (

    select
        opportunity_id,
        stage,
        age_bucket,
        size_bucket,
        min({{ sfa.month_start('close_date') }}) as closed_month,
        min(case when is_won then {{ sfa.month_start('close_date') }} end) as won_month
    from closed_stage_visits
    group by 1, 2, 3, 4

),

monthly as (

    select
        stage,
        age_bucket,
        size_bucket,
        closed_month,
        won_month,
        count(*) as deals
    from bucket_deals
    group by 1, 2, 3, 4, 5

),

learned as (

    select
        periods.period_month,
        monthly.stage,
        monthly.age_bucket,
        monthly.size_bucket,
        cast(sum(monthly.deals) as {{ dbt.type_bigint() }}) as closed_deals,
        cast(sum(case when monthly.won_month < periods.period_month then monthly.deals else 0 end) as {{ dbt.type_bigint() }}) as won_deals
    from periods
    inner join monthly
        on monthly.closed_month < periods.period_month
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
