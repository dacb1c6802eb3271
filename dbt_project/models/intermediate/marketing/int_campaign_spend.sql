-- Spend, impressions and clicks per campaign in the reporting currency (daily metrics summed).

with

metrics as (

    select * from {{ ref('stg_marketing__campaign_daily_metrics') }}
    where not is_deleted

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

final as (

    select
        metrics.campaign_id,
        sum({{ sfa.to_reporting_currency('metrics.spend', 'fx_rates.rate_to_cny') }}) as spend_cny,
        sum(metrics.impressions) as impressions,
        sum(metrics.clicks) as clicks,
        min(metrics.metric_date) as first_metric_date,
        max(metrics.metric_date) as last_metric_date
    from metrics
    left join fx_rates
        on coalesce(metrics.currency, '{{ var("reporting_currency") }}') = fx_rates.currency
    group by 1

)

select * from final
