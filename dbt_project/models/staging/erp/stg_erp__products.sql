-- ERP products (Odoo `product.product`).

with

renamed as (

    select *
    from {{ ref('base_erp__products') }}
    where {{ sfa.not_quarantined('erp_products', 'product_id') }}

)

select * from renamed
