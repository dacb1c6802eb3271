-- ERP sales order lines (Odoo `sale.order.line`).
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_erp__sales_order_lines` view on top.

{{ config(materialized='incremental', unique_key='order_line_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('erp_sales_order_lines') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        cast(_record_id as {{ dbt.type_bigint() }}) as order_line_id,
        {{ sfa.odoo_many2one_id('_record', 'order_id') }} as order_id,
        {{ sfa.odoo_many2one_id('_record', 'product_id') }} as product_id,
        {{ sfa.to_double(sfa.odoo_field('_record', 'product_uom_qty')) }} as quantity,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'price_unit')) }} as price_unit,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'price_subtotal')) }} as price_subtotal,
        {{ sfa.odoo_many2one_name('_record', 'currency_id') }} as currency,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'create_date')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'write_date')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
