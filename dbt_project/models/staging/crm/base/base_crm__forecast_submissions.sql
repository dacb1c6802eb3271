-- Rep forecast submissions per month (custom `forecast_submission__c`): commit and best case, with the manager's adjustment.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__forecast_submissions` view on top.

{{ config(materialized='incremental', unique_key='submission_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_forecast_submissions') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as submission_id,
        {{ sfa.text_field('_record', 'period') }} as period,
        {{ sfa.text_to_date(sfa.text_field('_record', 'period') ~ " || '-01'") }} as period_month,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'submitted_time')) }} as submitted_at,
        {{ sfa.to_amount(sfa.json_field('_record', 'commit_amount')) }} as commit_amount,
        {{ sfa.to_amount(sfa.json_field('_record', 'best_case_amount')) }} as best_case_amount,
        {{ sfa.to_amount(sfa.json_field('_record', 'manager_adjusted_amount')) }} as manager_adjusted_amount,
        {{ sfa.crm_user_ref('_record', 'manager_id') }} as manager_id,
        {{ sfa.crm_common_columns() }}
    from source
    {%- endcall %}

)

select * from renamed
