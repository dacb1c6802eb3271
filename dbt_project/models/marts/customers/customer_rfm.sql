with

customers as (

    select * from {{ ref('int_customers_unified') }}

),

orders as (

    select * from {{ ref('int_erp__orders_enriched') }}
    where customer_id is not null
        and order_date <= {{ sfa.as_of_date() }}

),

segments as (

    select * from {{ ref('rfm_segments') }}

),

window_orders as (

    select
        customer_id,
        max(order_date) as last_order_date,
        count(*) as frequency,
        sum(amount_total_cny) as monetary_cny
    from orders
    where order_date > {{ dbt.dateadd('day', -1 * var('rfm_window_days'), sfa.as_of_date()) }}
    group by 1

),

scored as (

    select
        window_orders.*,
        {{ sfa.days_between('last_order_date', sfa.as_of_date()) }} as recency_days,
        ntile(5) over (order by last_order_date, customer_id) as recency_score,
        ntile(5) over (order by frequency, customer_id) as frequency_score,
        ntile(5) over (order by monetary_cny, customer_id) as monetary_score
    from window_orders

),

matched as (

    select
        scored.customer_id,
        segments.segment,
        row_number() over (partition by scored.customer_id order by segments.priority) as match_rank
    from scored
    inner join segments
        on scored.recency_score between segments.min_recency_score and segments.max_recency_score
        and scored.frequency_score between segments.min_frequency_score and segments.max_frequency_score
        and scored.monetary_score between segments.min_monetary_score and segments.max_monetary_score

),

final as (

    select
        customers.customer_id,
        customers.customer_name,
        scored.last_order_date,
        scored.recency_days,
        coalesce(scored.frequency, 0) as frequency,
        cast(coalesce(scored.monetary_cny, 0) as {{ sfa.type_amount() }}) as monetary_cny,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        case when scored.customer_id is not null
            then cast(scored.recency_score as {{ dbt.type_string() }})
                || cast(scored.frequency_score as {{ dbt.type_string() }})
                || cast(scored.monetary_score as {{ dbt.type_string() }})
        end as rfm_code,
        coalesce(matched.segment, 'no_recent_orders') as rfm_segment
    from customers
    left join scored
        on customers.customer_id = scored.customer_id
    left join matched
        on customers.customer_id = matched.customer_id
        and matched.match_rank = 1

)

select * from final
