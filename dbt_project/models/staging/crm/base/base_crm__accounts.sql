-- CRM accounts (customer companies, `AccountObj`), latest version per id, quarantined ids excluded.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__accounts` view on top.

{{ config(materialized='incremental', unique_key='account_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_accounts') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as account_id,
        {{ sfa.text_field('_record', 'name') }} as account_name,
        {{ sfa.text_field('_record', 'account_no') }} as account_no,
        {{ sfa.text_field('_record', 'account_level') }} as account_level,
        {{ sfa.text_field('_record', 'account_source') }} as account_source,
        {{ sfa.text_field('_record', 'deal_status') }} as deal_status,
        {{ sfa.text_field('_record', 'industry_level1') }} as industry,
        {{ sfa.text_field('_record', 'uniform_social_credit_code') }} as tax_id,
        {{ sfa.text_field('_record', 'tel') }} as tel,
        {{ sfa.text_field('_record', 'email') }} as email,
        {{ sfa.text_field('_record', 'address') }} as address,
        {{ sfa.to_int(sfa.json_field('_record', 'employee_count__c')) }} as employee_count,
        {{ sfa.text_field('_record', 'region__c') }} as region,
        coalesce({{ sfa.to_boolean(sfa.json_field('_record', 'is_strategic__c')) }}, false) as is_strategic,
        {{ sfa.text_field('_record', 'high_seas_id') }} as high_seas_id,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'last_followed_time')) }} as last_followed_at,
        {{ sfa.crm_common_columns() }}
    from source
    {%- endcall %}

)

select * from renamed
