-- CRM activities (`ActiveRecordObj`): calls, visits, e-mails and meetings. The records an activity relates to are in `int_crm__activity_links`.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__activities` view on top.

{{ config(materialized='incremental', unique_key='activity_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_activities') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as activity_id,
        {{ sfa.text_field('_record', 'active_record_type') }} as activity_type,
        {{ sfa.text_field('_record', 'active_record_content') }} as activity_content,
        {#- counted on the extracted list, not the record: the same expression as the next column,
            which DuckDB computes once for both #}
        {{ sfa.json_array_length(sfa.json_value_text('_record', 'related_object_data'), '') }} as related_object_count,
        {{ sfa.json_value_text('_record', 'related_object_data') }} as related_objects_json,
        coalesce({{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'activity_time__c')) }}, {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'create_time')) }}) as activity_at,
        {{ sfa.crm_common_columns() }}
    from source
    {%- endcall %}

)

{#- refreshed_at: which run wrote the row; the primary_key test checks only the newest batch. #}
select
    renamed.*,
    {{ sfa.refreshed_at() }} as refreshed_at
from renamed
