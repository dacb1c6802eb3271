with

people as (

    select * from {{ ref('int_lead_people') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

people_totals as (

    select
        count(*) as distinct_people,
        cast(sum(lead_count) as {{ dbt.type_bigint() }}) as current_leads
    from people

),

deal_totals as (

    select
        {{ sfa.count_if('is_won') }} as won_deals,
        {{ sfa.count_if('is_lost') }} as lost_deals,
        {{ sfa.count_if('is_open') }} as open_deals,
        cast(sum(case when is_won then amount_cny else 0 end) as {{ sfa.type_amount() }}) as won_revenue_cny,
        cast(sum(case when is_lost then amount_cny else 0 end) as {{ sfa.type_amount() }}) as lost_amount_cny,
        cast(sum(case when is_open then amount_cny else 0 end) as {{ sfa.type_amount() }}) as open_pipeline_cny
    from opportunities

),

final as (

    select
        people_totals.distinct_people,
        people_totals.current_leads,
        deal_totals.won_deals,
        deal_totals.lost_deals,
        deal_totals.open_deals,
        {{ sfa.ratio('deal_totals.won_deals', 'deal_totals.won_deals + deal_totals.lost_deals', 4) }} as win_rate,
        {{ sfa.ratio('deal_totals.won_revenue_cny', 'deal_totals.won_revenue_cny + deal_totals.lost_amount_cny', 4) }} as win_rate_by_value,
        deal_totals.won_revenue_cny,
        deal_totals.lost_amount_cny,
        deal_totals.open_pipeline_cny
    from people_totals
    cross join deal_totals

)

select * from final
