-- Daily spend, impressions and clicks per campaign.

with

renamed as (

    select *
    from {{ ref('base_marketing__campaign_daily_metrics') }}
    where {{ sfa.not_quarantined('mkt_campaign_daily_metrics', 'metric_id') }}

)

select * from renamed
