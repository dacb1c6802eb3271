-- ERP customer payments received (回款, Odoo `account.payment`). Invoices each payment settles are in `int_erp__payment_invoices`.

with

renamed as (

    select *
    from {{ ref('base_erp__payments') }}
    where {{ sfa.not_quarantined('erp_payments', 'payment_id') }}

)

select * from renamed
