-- One row per (activity, related record): `related_object_data` unnested with a small index spine,
-- the same way on every engine. Key-incremental on activity_id (macros/incremental_keys.sql): a run
-- unnests only the activities with a version newer than the table's newest `extracted_at` (each row
-- keeps its activity's extracted_at) and replaces all their rows.
-- Links an activity's new version no longer has (edited away, emptied, tombstoned) stay as rows with
-- `is_removed = true`, so that models downstream see which records lost a link without diffing every
-- record (int_leads_enriched); consumers read `not is_removed`. A link whose columns are unchanged in
-- the new version keeps its `refreshed_at`; new, changed and removed ones get this run's. Removed
-- rows older than var removed_link_retention_days are purged; a downstream model that last ran before
-- that (or after this table was rebuilt) diffs every record instead.
-- When an activity was quarantined or released since the last run (the quarantine fingerprint in the
-- table comment differs), the run diffs every (activity, version) instead and a post-hook drops the
-- links of versions no longer current, without keeping them as removed rows.

{%- set activities_sql = '(select activity_id, extracted_at, is_deleted from ' ~ ref('stg_crm__activities') ~ ')' %}
{%- set current_activities = '(select activity_id, extracted_at from ' ~ ref('stg_crm__activities') ~ ' where not is_deleted)' %}
{#- True only in an incremental run: then unbuilt activities come from watermarks and the links they
    drop are kept as removed rows. -#}
{%- set quarantine_unchanged = sfa.quarantine_unchanged(['crm_activities']) %}

{#- The hooks spell the driver out again: hook strings are rendered when they run, and a ref()
    rendered at parse time would name this model instead of staging. #}
{{ config(
    materialized='incremental',
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    post_hook=[
        "{% if not sfa.quarantine_unchanged(['crm_activities']) %}{{ sfa.delete_stale_versions('activity_id', 'extracted_at', '(select activity_id, extracted_at from ' ~ ref('stg_crm__activities') ~ ' where not is_deleted)') }}{% else %}select 1{% endif %}",
        "{{ sfa.purge_removed_rows() }}",
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

current_links as (

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

),

{%- if quarantine_unchanged %}

{#- The rows this table holds for the activities being rebuilt, current and already removed. #}
built as (

    select * from {{ this }}
    where {{ sfa.key_in(this, 'activity_id', 'select activity_id from unbuilt') }}

),

unchanged as (

    select
        built.activity_id, built.related_api_name, built.related_record_id, built.activity_type,
        built.activity_at, built.owner_id, max(built.refreshed_at) as refreshed_at
    from built
    where not built.is_removed
    group by 1, 2, 3, 4, 5, 6

),

removed as (

    {#- Links the new version dropped (this run) or that were dropped before (kept with their time),
        unless the record is linked again; extracted_at stays that of the version that had the link. -#}
    select
        built.activity_id,
        built.related_api_name,
        built.related_record_id,
        built.activity_type,
        built.activity_at,
        built.owner_id,
        built.extracted_at,
        true as is_removed,
        case when built.is_removed then built.refreshed_at else {{ sfa.refreshed_at() }} end as refreshed_at
    from built
    where not exists (
        select 1
        from current_links
        where current_links.activity_id = built.activity_id
            and current_links.related_api_name = built.related_api_name
            and current_links.related_record_id = built.related_record_id
    )

),

{%- endif %}

final as (

    select
        current_links.*,
        false as is_removed,
        {%- if quarantine_unchanged %}
        coalesce(unchanged.refreshed_at, {{ sfa.refreshed_at() }}) as refreshed_at
        {%- else %}
        {{ sfa.refreshed_at() }} as refreshed_at
        {%- endif %}
    from current_links
    {%- if quarantine_unchanged %}
    left join unchanged
        on current_links.activity_id = unchanged.activity_id
        and current_links.related_api_name = unchanged.related_api_name
        and current_links.related_record_id = unchanged.related_record_id
        and not {{ sfa.differs('current_links.activity_type', 'unchanged.activity_type') }}
        and not {{ sfa.differs('current_links.activity_at', 'unchanged.activity_at') }}
        and not {{ sfa.differs('current_links.owner_id', 'unchanged.owner_id') }}

    union all

    select * from removed
    {%- endif %}

)

select * from final
