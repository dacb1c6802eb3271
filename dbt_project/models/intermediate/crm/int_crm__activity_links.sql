-- One row per (activity, related record): `related_object_data` unnested with a small index spine,
-- the same way on every engine.

with

activities as (

    select * from {{ ref('stg_crm__activities') }}
    where not is_deleted

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
        activities.owner_id
    from links
    inner join activities
        on links.activity_id = activities.activity_id
    where links.related_record_id is not null

)

select * from final
