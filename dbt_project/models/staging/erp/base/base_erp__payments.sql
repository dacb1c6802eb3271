-- ERP customer payments received (回款, Odoo `account.payment`). Invoices each payment settles are in `int_erp__payment_invoices`.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_erp__payments` view on top.

{{ config(materialized='incremental', unique_key='payment_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('erp_payments') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        cast(_record_id as {{ dbt.type_bigint() }}) as payment_id,
        {{ sfa.odoo_field('_record', 'name') }} as payment_name,
        {{ sfa.odoo_many2one_id('_record', 'partner_id') }} as erp_customer_id,
        {{ sfa.to_amount(sfa.odoo_field('_record', 'amount')) }} as amount,
        {{ sfa.text_to_date(sfa.odoo_field('_record', 'date')) }} as payment_date,
        {{ sfa.odoo_many2one_name('_record', 'currency_id') }} as currency,
        {{ sfa.odoo_field('_record', 'payment_type') }} as payment_type,
        {{ sfa.odoo_field('_record', 'state') }} as payment_state,
        {{ sfa.json_array_length('_record', 'reconciled_invoice_ids') }} as reconciled_invoice_count,
        {{ sfa.json_value_text('_record', 'reconciled_invoice_ids') }} as reconciled_invoice_ids_json,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'create_date')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.odoo_field('_record', 'write_date')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
