with

outcomes as (

    select * from {{ ref('int_campaign_outcomes') }}

),

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

campaign_spend as (

    select
        channel,
        count(*) as campaigns,
        sum(spend_cny) as spend_cny,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from outcomes
    group by 1

),

lead_outcomes as (

    select
        channel,
        count(*) as leads,
        {{ sfa.count_if('is_mql') }} as mql,
        {{ sfa.count_if('is_sql') }} as sql,
        {{ sfa.count_if('is_converted') }} as opportunities,
        {{ sfa.count_if('is_won') }} as won_deals,
        sum(case when is_won then opportunity_amount_cny else 0 end) as won_revenue_cny
    from leads
    group by 1

),

channels as (

    select channel from {{ ref('channels') }}
    union
    select channel from campaign_spend
    union
    select channel from lead_outcomes

),

combined as (

    select
        coalesce(channels.channel, 'unknown') as channel,
        coalesce(campaign_spend.campaigns, 0) as campaigns,
        coalesce(campaign_spend.spend_cny, 0) as spend_cny,
        coalesce(campaign_spend.impressions, 0) as impressions,
        coalesce(campaign_spend.clicks, 0) as clicks,
        coalesce(lead_outcomes.leads, 0) as leads,
        coalesce(lead_outcomes.mql, 0) as mql,
        coalesce(lead_outcomes.sql, 0) as sql,
        coalesce(lead_outcomes.opportunities, 0) as opportunities,
        coalesce(lead_outcomes.won_deals, 0) as won_deals,
        coalesce(lead_outcomes.won_revenue_cny, 0) as won_revenue_cny
    from channels
    left join campaign_spend
        on channels.channel is not distinct from campaign_spend.channel
    left join lead_outcomes
        on channels.channel is not distinct from lead_outcomes.channel

),

final as (

    select
        channel,
        campaigns,
        {{ sfa.marketing_performance_measures() }}
    from combined

)

select * from final
