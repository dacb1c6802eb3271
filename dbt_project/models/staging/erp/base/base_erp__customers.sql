-- ERP customers (Odoo `res.partner` with customer_rank > 0).
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_erp__customers` view on top.

{{ config(materialized='incremental', unique_key='erp_customer_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('erp_customers') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        cast(_record_id as {{ dbt.type_bigint() }}) as erp_customer_id,
        {{ sfa.odoo_field('_record', 'name') }} as customer_name,
        {{ sfa.odoo_field('_record', 'vat') }} as tax_id,
        {{ sfa.odoo_field('_record', 'email') }} as email,
        {{ sfa.odoo_field('_record', 'phone') }} as phone,
        {{ sfa.odoo_field('_record', 'street') }} as street,
        {{ sfa.odoo_field('_record', 'city') }} as city,
        {{ sfa.odoo_many2one_name('_record', 'country_id') }} as country_name,
        {{ sfa.to_int(sfa.json_field('_record', 'customer_rank')) }} as customer_rank,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'credit_limit')) }} as credit_limit,
        {{ sfa.odoo_many2one_name('_record', 'property_payment_term_id') }} as payment_term_name,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'create_date')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'write_date')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
