-- Posted ERP invoices with the canonical customer, amounts in the reporting currency, overdue
-- status as of the run's date, and when they were paid (latest payment reconciling them).

with

invoices as (

    select * from {{ ref('stg_erp__invoices') }}
    where not is_deleted
        and invoice_state = 'posted'

),

erp_customers as (

    select erp_customer_id, customer_id from {{ ref('stg_erp__customers') }}

),

payment_invoices as (

    select * from {{ ref('int_erp__payment_invoices') }}

),

payments as (

    select * from {{ ref('stg_erp__payments') }}
    where not is_deleted
        and payment_state = 'posted'

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

payment_dates as (

    select
        payment_invoices.invoice_id,
        min(payments.payment_date) as first_payment_date,
        max(payments.payment_date) as last_payment_date
    from payment_invoices
    inner join payments
        on payment_invoices.payment_id = payments.payment_id
    group by 1

),

final as (

    select
        invoices.invoice_id,
        invoices.invoice_name,
        invoices.erp_customer_id,
        erp_customers.customer_id,
        invoices.order_name,
        invoices.invoice_date,
        invoices.due_date,
        invoices.payment_state,
        invoices.currency,
        {{ sfa.to_reporting_currency('invoices.amount_total', 'fx_rates.rate_to_cny') }} as amount_total_cny,
        {{ sfa.to_reporting_currency('invoices.amount_residual', 'fx_rates.rate_to_cny') }} as amount_residual_cny,
        case when invoices.payment_state = 'paid' then payment_dates.last_payment_date end as paid_date,
        invoices.amount_residual > 0 and invoices.due_date < {{ sfa.as_of_date() }} as is_overdue,
        case when invoices.amount_residual > 0 and invoices.due_date < {{ sfa.as_of_date() }}
            then {{ sfa.days_between('invoices.due_date', sfa.as_of_date()) }}
        end as days_overdue
    from invoices
    left join erp_customers
        on invoices.erp_customer_id = erp_customers.erp_customer_id
    left join payment_dates
        on invoices.invoice_id = payment_dates.invoice_id
    left join fx_rates
        on coalesce(invoices.currency, '{{ var("reporting_currency") }}') = fx_rates.currency

)

select * from final
