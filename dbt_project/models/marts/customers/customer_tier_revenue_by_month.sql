with

orders as (

    select * from {{ ref('int_erp__orders_enriched') }}
    where customer_id is not null

),

customers as (

    select customer_id, tier from {{ ref('customer_360') }}

),

by_tier as (

    select
        orders.order_month,
        customers.tier,
        count(distinct orders.customer_id) as customers,
        count(*) as orders,
        sum(orders.amount_total_cny) as revenue_cny
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    group by 1, 2

),

final as (

    select
        order_month,
        tier,
        customers,
        orders,
        cast(revenue_cny as {{ sfa.type_amount() }}) as revenue_cny,
        {{ sfa.ratio('revenue_cny', 'sum(revenue_cny) over (partition by order_month)', 4) }} as revenue_share
    from by_tier

)

select * from final
