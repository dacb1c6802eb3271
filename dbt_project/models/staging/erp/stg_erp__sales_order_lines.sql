-- ERP sales order lines (Odoo `sale.order.line`).

with

renamed as (

    select *
    from {{ ref('base_erp__sales_order_lines') }}
    where {{ sfa.not_quarantined('erp_sales_order_lines', 'order_line_id') }}

)

select * from renamed
