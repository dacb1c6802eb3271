-- ERP products (Odoo `product.product`).
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_erp__products` view on top.

{{ config(materialized='incremental', unique_key='product_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('erp_products') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        cast(_record_id as {{ dbt.type_bigint() }}) as product_id,
        {{ sfa.odoo_field('_record', 'default_code') }} as product_code,
        {{ sfa.odoo_field('_record', 'name') }} as product_name,
        {{ sfa.odoo_many2one_name('_record', 'categ_id') }} as product_line,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'list_price')) }} as list_price,
        {{ sfa.odoo_many2one_name('_record', 'currency_id') }} as currency,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'create_date')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'write_date')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
