-- ERP sales orders (Odoo `sale.order`).
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_erp__sales_orders` view on top.

{{ config(materialized='incremental', unique_key='order_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('erp_sales_orders') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        cast(_record_id as {{ dbt.type_bigint() }}) as order_id,
        {{ sfa.odoo_field('_record', 'name') }} as order_name,
        {{ sfa.odoo_many2one_id('_record', 'partner_id') }} as erp_customer_id,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'date_order')) }} as ordered_at,
        cast({{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'date_order')) }} as date) as order_date,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'amount_untaxed')) }} as amount_untaxed,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'amount_tax')) }} as amount_tax,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'amount_total')) }} as amount_total,
        {{ sfa.odoo_many2one_name('_record', 'currency_id') }} as currency,
        {{ sfa.odoo_field('_record', 'state') }} as order_state,
        {{ sfa.odoo_many2one_name('_record', 'user_id') }} as salesperson_name,
        {{ sfa.odoo_field('_record', 'client_order_ref') }} as opportunity_id,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'create_date')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'write_date')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
