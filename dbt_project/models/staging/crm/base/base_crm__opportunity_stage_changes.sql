-- Opportunity stage changes (custom object `opportunity_stage_change__c`): one row per change, with the amount, close date and forecast category at that change.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__opportunity_stage_changes` view on top.

{{ config(materialized='incremental', unique_key='stage_change_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_opportunity_stage_changes') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as stage_change_id,
        {{ sfa.text_field('_record', 'new_opportunity_id') }} as opportunity_id,
        {{ sfa.text_field('_record', 'from_stage') }} as from_stage,
        {{ sfa.text_field('_record', 'to_stage') }} as to_stage,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'changed_time')) }} as changed_at,
        {{ sfa.to_amount(sfa.json_field('_record', 'amount')) }} as amount,
        {{ sfa.epoch_ms_to_local_date(sfa.json_field('_record', 'close_date')) }} as close_date,
        {{ sfa.text_field('_record', 'forecast_category__c') }} as forecast_category,
        {{ sfa.crm_common_columns() }}
    from source
    {%- endcall %}

)

select * from renamed
