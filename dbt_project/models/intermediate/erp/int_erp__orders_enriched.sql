-- Confirmed ERP sales orders (state sale or done, not cancelled/deleted) with the canonical customer
-- and the total in the reporting currency.

with

orders as (

    select * from {{ ref('stg_erp__sales_orders') }}
    where not is_deleted
        and order_state in ('sale', 'done')

),

erp_customers as (

    select erp_customer_id, customer_id from {{ ref('stg_erp__customers') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

final as (

    select
        orders.order_id,
        orders.order_name,
        orders.erp_customer_id,
        erp_customers.customer_id,
        orders.opportunity_id,
        orders.ordered_at,
        orders.order_date,
        {{ sfa.month_start('orders.order_date') }} as order_month,
        orders.order_state,
        orders.currency,
        orders.amount_untaxed,
        orders.amount_total,
        {{ sfa.to_reporting_currency('orders.amount_untaxed', 'fx_rates.rate_to_cny') }} as amount_untaxed_cny,
        {{ sfa.to_reporting_currency('orders.amount_total', 'fx_rates.rate_to_cny') }} as amount_total_cny
    from orders
    left join erp_customers
        on orders.erp_customer_id = erp_customers.erp_customer_id
    left join fx_rates
        on coalesce(orders.currency, '{{ var("reporting_currency") }}') = fx_rates.currency

)

select * from final
