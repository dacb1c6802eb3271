-- CRM leads (`LeadsObj`), latest version per id, quarantined ids excluded.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__leads` view on top.

{{ config(materialized='incremental', unique_key='lead_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_leads') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as lead_id,
        {{ sfa.text_field('_record', 'name') }} as lead_name,
        {{ sfa.text_field('_record', 'company') }} as company,
        {{ sfa.text_field('_record', 'mobile') }} as mobile,
        {{ sfa.text_field('_record', 'tel') }} as tel,
        {{ sfa.text_field('_record', 'email') }} as email,
        {{ sfa.text_field('_record', 'job_title') }} as job_title,
        {{ sfa.text_field('_record', 'source') }} as channel,
        {{ sfa.text_field('_record', 'marketing_event_id') }} as campaign_id,
        {{ sfa.text_field('_record', 'leads_pool_id') }} as leads_pool_id,
        {{ sfa.text_field('_record', 'biz_status') }} as biz_status,
        {{ sfa.text_field('_record', 'leads_stage') }} as leads_stage,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'assigned_time')) }} as assigned_at,
        {{ sfa.crm_user_ref('_record', 'assigner_id') }} as assigner_id,
        {{ sfa.crm_user_ref('_record', 'last_follower') }} as last_follower_id,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'last_followed_time')) }} as last_followed_at,
        {{ sfa.text_field('_record', 'industry') }} as industry,
        {{ sfa.to_int(sfa.json_field('_record', 'employee_count__c')) }} as employee_count,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'mql_time__c')) }} as mql_at,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'sql_time__c')) }} as sql_at,
        {{ sfa.text_field('_record', 'account_id') }} as account_id,
        {{ sfa.text_field('_record', 'contact_id') }} as contact_id,
        {{ sfa.text_field('_record', 'new_opportunity_id') }} as opportunity_id,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'transform_time')) }} as transformed_at,
        {{ sfa.text_field('_record', 'back_reason') }} as back_reason,
        {{ sfa.text_field('_record', 'close_reason') }} as close_reason,
        {{ sfa.crm_common_columns() }}
    from source
    {%- endcall %}

)

select * from renamed
