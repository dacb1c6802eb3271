-- One row per (activity, related record): `related_object_data` unnested with a small index spine,
-- the same way on every engine. Key-incremental on activity_id (macros/incremental_keys.sql): a run
-- unnests only the activities with a version newer than the table's newest `extracted_at` (each row
-- keeps its activity's extracted_at); a pre-hook first drops those activities' links, since an
-- edited activity may now relate to no record at all, and a tombstone to none. When an activity was
-- quarantined or released since the last run (the quarantine fingerprint in the table comment
-- differs), the run diffs every (activity, version) instead and a post-hook drops the links of
-- versions no longer current.

{%- set activities_sql = '(select activity_id, extracted_at, is_deleted from ' ~ ref('stg_crm__activities') ~ ')' %}
{%- set current_activities = '(select activity_id, extracted_at from ' ~ ref('stg_crm__activities') ~ ' where not is_deleted)' %}
{%- set quarantine_unchanged = sfa.quarantine_unchanged(['crm_activities']) %}

{#- The hooks spell the driver out again: hook strings are rendered when they run, and a ref()
    rendered at parse time would name this model instead of staging. #}
{{ config(
    materialized='incremental',
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ sfa.delete_links_of_new_versions('(select activity_id, extracted_at from ' ~ ref('stg_crm__activities') ~ ')') }}",
    post_hook=[
        "{% if not sfa.quarantine_unchanged(['crm_activities']) %}{{ sfa.delete_stale_versions('activity_id', 'extracted_at', '(select activity_id, extracted_at from ' ~ ref('stg_crm__activities') ~ ' where not is_deleted)') }}{% else %}select 1{% endif %}",
        "{{ sfa.remember_input_fingerprints(['crm_activities']) }}",
    ],
) }}


with

{%- if is_incremental() %}

unbuilt as (

    {%- if quarantine_unchanged %}
    {{ sfa.keys_changed_since_built(activities_sql, 'activity_id', include_unseen=false) }}
    {%- else %}
    {{ sfa.keys_with_unbuilt_versions(current_activities, 'activity_id', 'extracted_at') }}
    {%- endif %}

),

{%- endif %}

activities as (

    {#- A join, not `in (...)`: DuckDB builds the semi-join's hash table on the millions of current
        activities instead of the few unbuilt ones. #}
    select staged.*
    from {{ ref('stg_crm__activities') }} as staged
    {%- if is_incremental() %}
    inner join unbuilt
        on staged.activity_id = unbuilt.activity_id
    {%- endif %}
    where not staged.is_deleted

),

spine as (

    {{ dbt.generate_series(var('max_related_objects_per_activity')) }}

),

links as (

    select
        activities.activity_id,
        {{ sfa.json_array_element('activities.related_objects_json', '', 'spine.generated_number - 1', 'describe_api_name') }} as related_api_name,
        {{ sfa.json_array_element('activities.related_objects_json', '', 'spine.generated_number - 1', 'id') }} as related_record_id
    from activities
    inner join spine
        on spine.generated_number <= activities.related_object_count

),

final as (

    select
        links.activity_id,
        links.related_api_name,
        links.related_record_id,
        activities.activity_type,
        activities.activity_at,
        activities.owner_id,
        activities.extracted_at
    from links
    inner join activities
        on links.activity_id = activities.activity_id
    where links.related_record_id is not null

)

select * from final
