{#-
    Source query of a check-strategy snapshot over a staging model with an `extracted_at` column,
    reading only the rows that can have changed since the snapshot last ran:

    - rows extracted at or after the newest `extracted_at` the snapshot holds (`>=` as in
      `raw_latest`: rows of the newest batch still being landed during the last run are read
      again; unchanged ones produce no new version);
    - rows whose id has no current version in the snapshot (new ids, ids that left quarantine,
      ids closed by an earlier run), whatever their `extracted_at`.

    dbt's snapshot staging query reads its source several times with every column. The second
    set is usually empty but finding it scans every id of the model, and in one statement the
    engine reads the wide rows to do so; a narrow `limit 1` probe when the node is compiled (right
    before it runs) decides whether the query needs that part at all.

    Because the source is no longer complete, the snapshot cannot use `hard_deletes: invalidate`
    (an id missing from the source would look deleted): deletions arrive as tombstones (a new
    version with `is_deleted = true`, a check column). An id that drops out of staging without a
    tombstone (quarantined) keeps its last version current; a version extracted while it was
    quarantined is recorded with the id's next version.

    The first run (no snapshot table yet) reads everything, as does a run on an empty one.

    The columns are the ones the snapshot's YAML documents (bar dbt's own `dbt_*`), not `*`: the
    history keeps its column list when staging gains a bookkeeping column (`refreshed_at`), and a
    new business column enters it by being documented there. When the parsed snapshot has no
    documented columns but its table exists, the table's columns are used instead (see below).
-#}
{% macro snapshot_changed_rows(source_relation, unique_key, watermark_column='extracted_at') -%}
    {%- set documented = [] -%}
    {%- for name in model.columns if not name.startswith('dbt_') -%}
        {%- do documented.append(name) -%}
    {%- endfor -%}
    {%- set snapshot_table = load_relation(this) if execute else none -%}
    {%- if not documented and snapshot_table is not none -%}
        {#- dbt 1.11's partial parsing drops snapshots.yml's columns of this file when it re-parses
            it because a macro it calls changed: keep the columns the snapshot table has. -#}
        {%- for column in adapter.get_columns_in_relation(snapshot_table) if not column.name.startswith('dbt_') -%}
            {%- do documented.append(column.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if snapshot_table is none %}
    select {{ sfa._snapshot_columns('everything', documented) }}
    from {{ source_relation }} as everything
    {%- else %}
    {%- set watermark = sfa.built_watermark(watermark_column) %}
    {%- set unseen_filter -%}
        (unseen.{{ watermark_column }} < {{ watermark }} or unseen.{{ watermark_column }} is null)
        and not exists (
            select 1
            from {{ snapshot_table }} as snapshotted
            where snapshotted.{{ unique_key }} = unseen.{{ unique_key }}
                and snapshotted.dbt_valid_to is null
        )
    {%- endset %}
    {%- set probe = run_query(
        'select unseen.' ~ unique_key ~ ' from ' ~ source_relation ~ ' as unseen where ' ~ unseen_filter ~ ' limit 1'
    ) %}
    select {{ sfa._snapshot_columns('changed', documented) }}
    from {{ source_relation }} as changed
    where changed.{{ watermark_column }} >= {{ watermark }}
    {%- if probe.rows | length > 0 %}
    union all
    select {{ sfa._snapshot_columns('unseen', documented) }}
    from {{ source_relation }} as unseen
    where {{ unseen_filter }}
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- `alias.column, ...`, or `alias.*` for a snapshot without documented columns. -#}
{% macro _snapshot_columns(alias, columns) -%}
    {%- if columns -%}
        {%- for column in columns %}{{ alias }}.{{ column }}{% if not loop.last %}, {% endif %}{% endfor -%}
    {%- else -%}
        {{ alias }}.*
    {%- endif -%}
{%- endmacro %}
