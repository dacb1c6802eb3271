-- CRM opportunities (`NewOpportunityObj`), latest version per id, quarantined ids excluded.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__opportunities` view on top.

{{ config(materialized='incremental', unique_key='opportunity_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_opportunities') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as opportunity_id,
        {{ sfa.text_field('_record', 'name') }} as opportunity_name,
        {{ sfa.text_field('_record', 'account_id') }} as account_id,
        {{ sfa.text_field('_record', 'leads_id') }} as lead_id,
        {{ sfa.to_amount(sfa.json_field('_record', 'amount')) }} as amount,
        {{ sfa.text_field('_record', 'mc_currency') }} as currency,
        {{ sfa.epoch_ms_to_local_date(sfa.json_field('_record', 'close_date')) }} as close_date,
        {{ sfa.text_field('_record', 'sales_stage') }} as sales_stage,
        {{ sfa.text_field('_record', 'sales_status') }} as sales_status,
        {{ sfa.to_double(sfa.json_field('_record', 'probability')) }} as probability,
        {{ sfa.text_field('_record', 'forecast_category__c') }} as forecast_category,
        {{ sfa.text_field('_record', 'product_line__c') }} as product_line,
        {{ sfa.text_field('_record', 'loss_reason__c') }} as loss_reason,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'stg_changed_time')) }} as stage_changed_at,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'last_followed_time')) }} as last_followed_at,
        {{ sfa.crm_common_columns() }}
    from source
    {%- endcall %}

)

select * from renamed
