-- ERP customer invoices (Odoo `account.move`, move_type out_invoice).

with

renamed as (

    select *
    from {{ ref('base_erp__invoices') }}
    where {{ sfa.not_quarantined('erp_invoices', 'invoice_id') }}

)

select * from renamed
