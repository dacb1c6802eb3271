-- ERP customer invoices (Odoo `account.move`, move_type out_invoice).
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_erp__invoices` view on top.

{{ config(materialized='incremental', unique_key='invoice_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('erp_invoices') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        cast(_record_id as {{ dbt.type_bigint() }}) as invoice_id,
        {{ sfa.odoo_field('_record', 'name') }} as invoice_name,
        {{ sfa.odoo_many2one_id('_record', 'partner_id') }} as erp_customer_id,
        {{ sfa.odoo_field('_record', 'invoice_origin') }} as order_name,
        {{ sfa.text_to_date(sfa.odoo_field('_record', 'invoice_date')) }} as invoice_date,
        {{ sfa.text_to_date(sfa.odoo_field('_record', 'invoice_date_due')) }} as due_date,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'amount_total')) }} as amount_total,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'amount_residual')) }} as amount_residual,
        {{ sfa.odoo_field('_record', 'payment_state') }} as payment_state,
        {{ sfa.odoo_many2one_name('_record', 'currency_id') }} as currency,
        {{ sfa.odoo_field('_record', 'state') }} as invoice_state,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'create_date')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'write_date')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
