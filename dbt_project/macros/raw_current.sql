{#-
    Reading the current version of raw rows (source_contract.md 4-5).

    Staging is split in two so that the expensive part (picking the latest version and parsing
    `_record`) runs once per record version, while everything that can change without a new raw
    row (quarantine, identity) is re-applied on every run:

    - `models/staging/<source>/base/base_*`: incremental tables over `raw_latest(stream)`, keyed by
      the record id (delete+insert: dbt-duckdb and dbt-postgres both have it).
    - `models/staging/<source>/stg_*`: views on them with `not_quarantined(...)` and the identity map.
-#}

{#-
    The latest version per `_record_id` (highest `_cursor`, then latest `_extracted_at`, then batch
    id for a stable tie-break). Tombstones are kept; staging exposes them as `is_deleted`.

    In an incremental run only ids with a raw row extracted at or after the newest `extracted_at`
    the target holds are read, and for those ids every raw row is ranked again: raw is
    append-only, so a new row can only change the winner of its own id, and re-ranking all of that
    id's rows (not just the new ones) keeps an out-of-order arrival (a newer extraction of an older
    cursor) from replacing a better version. `>=` rather than `>`: rows of the newest batch that
    were still being landed during the last run are read again (harmless, same result).
    `watermark_column` is the target's copy of `_extracted_at`.
-#}
{% macro raw_latest(stream, watermark_column='extracted_at') -%}
    {{ return(adapter.dispatch('raw_latest', 'sfa')(stream, watermark_column)) }}
{%- endmacro %}

{% macro _raw_version_order(alias) -%}
    order by {{ alias }}._cursor desc nulls last, {{ alias }}._extracted_at desc, {{ alias }}._batch_id desc
{%- endmacro %}

{#- Ids with a raw row extracted at or after the newest extraction the target holds. -#}
{% macro _raw_changed_ids(stream, watermark_column) -%}
    select changed._record_id
    from {{ source('raw', stream) }} as changed
    where changed._extracted_at >= (
        select coalesce(max(seen.{{ watermark_column }}), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }} as seen
    )
{%- endmacro %}

{% macro default__raw_latest(stream, watermark_column) -%}
    select
        versions._record_id,
        versions._record,
        versions._deleted,
        versions._extracted_at,
        versions._cursor
    from (
        select
            raw_rows.*,
            row_number() over (partition by raw_rows._record_id {{ sfa._raw_version_order('raw_rows') }}) as _version_rank
        from {{ source('raw', stream) }} as raw_rows
        {%- if is_incremental() %}
        where raw_rows._record_id in ({{ sfa._raw_changed_ids(stream, watermark_column) }})
        {%- endif %}
    ) as versions
    where versions._version_rank = 1
{%- endmacro %}

{#- DuckDB, incremental: rank the changed ids' versions on the narrow columns and read `_record`
    (most of a raw row's bytes) only for the winners, by rowid; reading it for every raw row
    before the id filter applies was ~8x slower at a million records. -#}
{% macro duckdb__raw_latest(stream, watermark_column) -%}
    {%- if is_incremental() %}
    select
        raw_rows._record_id,
        raw_rows._record,
        raw_rows._deleted,
        raw_rows._extracted_at,
        raw_rows._cursor
    from {{ source('raw', stream) }} as raw_rows
    where raw_rows.rowid in (
        select ranked._raw_row
        from (
            select
                candidates.rowid as _raw_row,
                row_number() over (partition by candidates._record_id {{ sfa._raw_version_order('candidates') }}) as _version_rank
            from {{ source('raw', stream) }} as candidates
            where candidates._record_id in ({{ sfa._raw_changed_ids(stream, watermark_column) }})
        ) as ranked
        where ranked._version_rank = 1
    )
    {%- else %}
    {{ sfa.default__raw_latest(stream, watermark_column) }}
    {%- endif %}
{%- endmacro %}

{#- Filter for staging views: the record is not in `quality.quarantine_current` right now.
    `id_expr` is the model's id column; compared as text because quarantine holds `_record_id`. -#}
{% macro not_quarantined(stream, id_expr) -%}
    not exists (
        select 1
        from {{ source('quality', 'quarantine_current') }} as quarantined
        where quarantined.stream = '{{ stream }}'
            and quarantined.record_id = cast({{ id_expr }} as {{ dbt.type_string() }})
    )
{%- endmacro %}

{#- The latest version minus quarantined ids, in one query (not incremental): for ad-hoc models
    over a raw stream that do not need a base table. -#}
{% macro raw_current(stream) -%}
    select current_rows.*
    from ({{ sfa.raw_latest(stream) }}) as current_rows
    where {{ sfa.not_quarantined(stream, 'current_rows._record_id') }}
{%- endmacro %}
