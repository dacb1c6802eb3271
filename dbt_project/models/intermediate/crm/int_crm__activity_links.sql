-- One row per (activity, related record): `related_object_data` unnested with a small index spine,
-- the same way on every engine. Key-incremental on activity_id (macros/incremental_keys.sql): a run
-- unnests only the activities whose current version the table was not built from (each row keeps
-- its activity's extracted_at); the post-hook drops the links of replaced versions, since an edited
-- activity may now relate to no record at all, and of deleted or quarantined activities.

{%- set current_activities = '(select activity_id, extracted_at from ' ~ ref('stg_crm__activities') ~ ' where not is_deleted)' %}

{#- The hook spells the driver out again: hook strings are rendered when they run, and a ref()
    rendered at parse time would name this model instead of staging. #}
{{ config(
    materialized='incremental',
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    post_hook="{{ sfa.delete_stale_versions('activity_id', 'extracted_at', '(select activity_id, extracted_at from ' ~ ref('stg_crm__activities') ~ ' where not is_deleted)') }}",
) }}


with

{%- if is_incremental() %}

unbuilt as (

    {{ sfa.keys_with_unbuilt_versions(current_activities, 'activity_id', 'extracted_at') }}

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
