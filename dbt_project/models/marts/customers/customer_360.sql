{%- set cadence = var('customer_tier_follow_up_days') -%}

with

customers as (

    {#- Named rather than `*`: the unified table's bookkeeping `refreshed_at` stays out of the mart. #}
    select
        customer_id,
        customer_name,
        primary_account_id,
        primary_erp_customer_id,
        crm_account_count,
        erp_customer_count,
        tax_id,
        owner_id,
        owner_name,
        team_name,
        owner_region_name,
        industry,
        employee_count,
        region,
        is_strategic,
        account_level,
        city,
        country_name,
        credit_limit_cny,
        crm_created_at,
        erp_created_at
    from {{ ref('int_customers_unified') }}

),

accounts as (

    select account_id, customer_id from {{ ref('stg_crm__accounts') }}
    where not is_deleted

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    where not is_deleted

),

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

orders as (

    select * from {{ ref('int_erp__orders_enriched') }}
    where customer_id is not null

),

invoices as (

    select * from {{ ref('int_erp__invoices_enriched') }}
    where customer_id is not null

),

payments as (

    select
        payments.*,
        erp_customers.customer_id
    from {{ ref('stg_erp__payments') }} as payments
    inner join {{ ref('stg_erp__customers') }} as erp_customers
        on payments.erp_customer_id = erp_customers.erp_customer_id
    where not payments.is_deleted
        and payments.payment_state = 'posted'

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

account_activities as (

    select * from {{ ref('int_crm__activity_links') }}
    where related_api_name = 'AccountObj'
        and not is_removed

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

contact_facts as (

    select
        accounts.customer_id,
        count(*) as contact_count,
        {{ sfa.count_if("contacts.contact_role = 'decision_maker'") }} as decision_maker_count,
        {{ sfa.count_if("contacts.stance = 'supporter'") }} as supporter_count,
        {{ sfa.count_if("contacts.stance = 'opponent'") }} as opponent_count
    from contacts
    inner join accounts
        on contacts.account_id = accounts.account_id
    group by 1

),

pipeline_facts as (

    select
        accounts.customer_id,
        {{ sfa.count_if('opportunities.is_open') }} as open_opportunities,
        sum(case when opportunities.is_open then opportunities.amount_cny else 0 end) as open_pipeline_cny,
        {{ sfa.count_if('opportunities.is_won') }} as won_deals,
        sum(case when opportunities.is_won then opportunities.amount_cny else 0 end) as won_revenue_cny
    from opportunities
    inner join accounts
        on opportunities.account_id = accounts.account_id
    group by 1

),

order_facts as (

    select
        customer_id,
        count(*) as order_count,
        sum(amount_total_cny) as order_amount_cny,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        sum(case when order_date > {{ dbt.dateadd('day', -365, sfa.as_of_date()) }}
            and order_date <= {{ sfa.as_of_date() }} then amount_total_cny else 0 end) as trailing_12m_purchases_cny,
        {{ sfa.count_if("order_date > " ~ dbt.dateadd('day', -1 * (var('rfm_window_days') // 2), sfa.as_of_date())
            ~ " and order_date <= " ~ sfa.as_of_date()) }} as orders_recent_half,
        {{ sfa.count_if("order_date > " ~ dbt.dateadd('day', -1 * var('rfm_window_days'), sfa.as_of_date())
            ~ " and order_date <= " ~ dbt.dateadd('day', -1 * (var('rfm_window_days') // 2), sfa.as_of_date())) }} as orders_prior_half
    from orders
    group by 1

),

invoice_facts as (

    select
        customer_id,
        sum(amount_total_cny) as invoiced_cny,
        sum(amount_residual_cny) as outstanding_cny,
        sum(case when is_overdue then amount_residual_cny else 0 end) as overdue_cny,
        max(days_overdue) as max_days_overdue
    from invoices
    group by 1

),

payment_facts as (

    select
        payments.customer_id,
        sum({{ sfa.to_reporting_currency('payments.amount', 'fx_rates.rate_to_cny') }}) as paid_cny,
        max(payments.payment_date) as last_payment_date
    from payments
    left join fx_rates
        on coalesce(payments.currency, '{{ var("reporting_currency") }}') = fx_rates.currency
    group by 1

),

order_to_cash as (

    select
        orders.customer_id,
        {{ sfa.median(sfa.days_between('orders.order_date', 'invoices.paid_date')) }} as median_order_to_cash_days,
        {{ sfa.median(sfa.days_between('orders.order_date', 'invoices.invoice_date')) }} as median_order_to_invoice_days
    from orders
    inner join invoices
        on orders.order_name = invoices.order_name
    group by 1

),

activity_facts as (

    select
        accounts.customer_id,
        max(account_activities.activity_at) as last_activity_at,
        count(*) as activity_count
    from account_activities
    inner join accounts
        on account_activities.related_record_id = accounts.account_id
    group by 1

),

combined as (

    select
        customers.*,
        coalesce(contact_facts.contact_count, 0) as contact_count,
        coalesce(contact_facts.decision_maker_count, 0) as decision_maker_count,
        coalesce(contact_facts.supporter_count, 0) as supporter_count,
        coalesce(contact_facts.opponent_count, 0) as opponent_count,
        coalesce(pipeline_facts.open_opportunities, 0) as open_opportunities,
        cast(coalesce(pipeline_facts.open_pipeline_cny, 0) as {{ sfa.type_amount() }}) as open_pipeline_cny,
        coalesce(pipeline_facts.won_deals, 0) as won_deals,
        cast(coalesce(pipeline_facts.won_revenue_cny, 0) as {{ sfa.type_amount() }}) as won_revenue_cny,
        coalesce(order_facts.order_count, 0) as order_count,
        cast(coalesce(order_facts.order_amount_cny, 0) as {{ sfa.type_amount() }}) as order_amount_cny,
        order_facts.first_order_date,
        order_facts.last_order_date,
        cast(coalesce(order_facts.trailing_12m_purchases_cny, 0) as {{ sfa.type_amount() }}) as trailing_12m_purchases_cny,
        coalesce(order_facts.orders_recent_half, 0) as orders_recent_half,
        coalesce(order_facts.orders_prior_half, 0) as orders_prior_half,
        cast(coalesce(invoice_facts.invoiced_cny, 0) as {{ sfa.type_amount() }}) as invoiced_cny,
        cast(coalesce(payment_facts.paid_cny, 0) as {{ sfa.type_amount() }}) as paid_cny,
        cast(coalesce(invoice_facts.outstanding_cny, 0) as {{ sfa.type_amount() }}) as outstanding_cny,
        cast(coalesce(invoice_facts.overdue_cny, 0) as {{ sfa.type_amount() }}) as overdue_cny,
        invoice_facts.max_days_overdue,
        payment_facts.last_payment_date,
        order_to_cash.median_order_to_invoice_days,
        order_to_cash.median_order_to_cash_days,
        activity_facts.last_activity_at,
        coalesce(activity_facts.activity_count, 0) as activity_count,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_segment
    from customers
    left join contact_facts on customers.customer_id = contact_facts.customer_id
    left join pipeline_facts on customers.customer_id = pipeline_facts.customer_id
    left join order_facts on customers.customer_id = order_facts.customer_id
    left join invoice_facts on customers.customer_id = invoice_facts.customer_id
    left join payment_facts on customers.customer_id = payment_facts.customer_id
    left join order_to_cash on customers.customer_id = order_to_cash.customer_id
    left join activity_facts on customers.customer_id = activity_facts.customer_id
    left join rfm on customers.customer_id = rfm.customer_id

),

tiered as (

    select
        combined.*,
        case
            when trailing_12m_purchases_cny > {{ var('customer_tier_a_min_amount') }} or is_strategic then 'A'
            when trailing_12m_purchases_cny >= {{ var('customer_tier_b_min_amount') }} then 'B'
            else 'C'
        end as tier
    from combined

),

final as (

    select
        tiered.*,
        case tier
            {% for tier, days in cadence.items() %}when '{{ tier }}' then {{ days }}
            {% endfor %}
        end as follow_up_cadence_days,
        {{ sfa.days_between('last_activity_at', sfa.as_of_date()) }} as days_since_last_activity,
        coalesce({{ sfa.days_between('last_activity_at', sfa.as_of_date()) }}, 999999) > case tier
            {% for tier, days in cadence.items() %}when '{{ tier }}' then {{ days }}
            {% endfor %}
        end as is_follow_up_overdue,
        (
            overdue_cny > {{ var('credit_risk_overdue_share') }} * outstanding_cny and overdue_cny > 0
        ) or coalesce(max_days_overdue, 0) > {{ var('credit_risk_overdue_days') }} as is_credit_risk,
        tier in ('A', 'B')
            and orders_prior_half > 0
            and orders_recent_half < {{ var('at_risk_frequency_drop_share') }} * orders_prior_half as is_at_risk
    from tiered

)

select * from final
