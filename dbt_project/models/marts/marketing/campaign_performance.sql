with

outcomes as (

    select * from {{ ref('int_campaign_outcomes') }}

),

final as (

    select
        campaign_id,
        campaign_name,
        channel,
        start_date,
        end_date,
        {{ sfa.marketing_performance_measures() }}
    from outcomes

)

select * from final
