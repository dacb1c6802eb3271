{#-
    The current state of one raw stream, as every staging model starts (source_contract.md 4-5):
    the latest version per `_record_id` (highest `_cursor`, then latest `_extracted_at`, then
    batch id for a stable tie-break), minus records the quality layer currently quarantines.
    Tombstones are kept here; staging exposes them as `is_deleted` and marts filter on it.
-#}
{% macro raw_current(stream) -%}
    select
        versions._record_id,
        versions._record,
        versions._deleted,
        versions._extracted_at,
        versions._cursor
    from (
        select
            raw_rows.*,
            row_number() over (
                partition by raw_rows._record_id
                order by raw_rows._cursor desc nulls last,
                    raw_rows._extracted_at desc,
                    raw_rows._batch_id desc
            ) as _version_rank
        from {{ source('raw', stream) }} as raw_rows
    ) as versions
    where versions._version_rank = 1
        and not exists (
            select 1
            from {{ source('quality', 'quarantine_current') }} as quarantined
            where quarantined.stream = '{{ stream }}'
                and quarantined.record_id = versions._record_id
        )
{%- endmacro %}
