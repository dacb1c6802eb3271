with

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}
    where is_won

),

final as (

    select
        {{ sfa.month_key('close_month') }} as close_month,
        close_month as month_start,
        count(*) as won_deals,
        cast(sum(amount_cny) as {{ sfa.type_amount() }}) as won_revenue_cny
    from opportunities
    group by 1, 2

)

select * from final
