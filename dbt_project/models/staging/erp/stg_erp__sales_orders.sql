-- ERP sales orders (Odoo `sale.order`).

with

renamed as (

    select *
    from {{ ref('base_erp__sales_orders') }}
    where {{ sfa.not_quarantined('erp_sales_orders', 'order_id') }}

)

select * from renamed
