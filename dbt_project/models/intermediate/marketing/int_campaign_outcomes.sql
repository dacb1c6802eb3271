-- Per campaign: its spend and the leads it produced with their outcomes (lead-level attribution:
-- a lead belongs to the campaign in its `marketing_event_id`).

with

campaigns as (

    select * from {{ ref('stg_marketing__campaigns') }}
    where not is_deleted

),

spend as (

    select * from {{ ref('int_campaign_spend') }}

),

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

lead_facts as (

    select
        campaign_id,
        count(*) as leads,
        {{ sfa.count_if('is_mql') }} as mql,
        {{ sfa.count_if('is_sql') }} as sql,
        {{ sfa.count_if('is_converted') }} as opportunities,
        {{ sfa.count_if('is_won') }} as won_deals,
        sum(case when is_won then opportunity_amount_cny else 0 end) as won_revenue_cny
    from leads
    where campaign_id is not null
    group by 1

),

final as (

    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        campaigns.start_date,
        campaigns.end_date,
        coalesce(spend.spend_cny, 0) as spend_cny,
        coalesce(spend.impressions, 0) as impressions,
        coalesce(spend.clicks, 0) as clicks,
        coalesce(lead_facts.leads, 0) as leads,
        coalesce(lead_facts.mql, 0) as mql,
        coalesce(lead_facts.sql, 0) as sql,
        coalesce(lead_facts.opportunities, 0) as opportunities,
        coalesce(lead_facts.won_deals, 0) as won_deals,
        coalesce(lead_facts.won_revenue_cny, 0) as won_revenue_cny
    from campaigns
    left join spend
        on campaigns.campaign_id = spend.campaign_id
    left join lead_facts
        on campaigns.campaign_id = lead_facts.campaign_id

)

select * from final
