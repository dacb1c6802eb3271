{#-
    Key-incremental intermediates and marts: in an incremental run a model recomputes only the
    keys whose inputs changed since it was last built, so a run after a small change scales with
    the change, not with the history (issue 5: at most 20% of a full build).

    Pattern (staging with identity, int_crm__activity_links, int_leads_enriched, int_lead_people,
    lead_scores, int_customers_unified):
    - `config(materialized='incremental', unique_key=K, incremental_strategy='delete+insert')`;
    - the model's incremental branch keeps the rows of the affected keys only; "affected" is worked
      out from narrow columns (extraction times, `refreshed_at` of an upstream key-incremental
      model, or a diff of the few columns the row takes from another input), never by recomputing
      wide rows;
    - keys that must disappear (tombstoned, quarantined, merged into another person) are deleted by
      a post-hook below, since delete+insert only replaces keys that still have rows.
    Vars and seeds are not inputs the diff can see: after changing one, run with `--full-refresh`.
-#}

{#- When the row was last recomputed (UTC); key-incremental models downstream read only rows
    refreshed after their own newest `refreshed_at`. -#}
{% macro refreshed_at() -%}
    cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Keys of `driver` (a relation or a subquery in parentheses) whose current row is newer than
    the newest `watermark` this model holds (`>=`, as in raw_latest: ties are read again,
    harmlessly; every key when the model holds none), plus, with `include_unseen`, driver keys this
    model does not hold yet although their row is older: keys back from quarantine with no new
    version. Callers leave those out when no key can have come back (the quarantine fingerprint is
    unchanged, or the driver is itself key-incremental and stamps re-inserted keys with a new
    `refreshed_at`). -#}
{% macro keys_changed_since_built(driver, key, watermark='extracted_at', include_unseen=true) -%}
    select changed.{{ key }}
    from {{ driver }} as changed
    where changed.{{ watermark }} >= {{ sfa.built_watermark(watermark) }}
    {%- if include_unseen %}
    union
    {#- except, not an anti-join: several times faster on DuckDB for millions of keys #}
    (
        select unseen.{{ key }} from {{ driver }} as unseen
        except
        select built.{{ key }} from {{ this }} as built
    )
    {%- endif %}
{%- endmacro %}

{#- The newest `column` this model holds, or a time before any data when it holds no rows. -#}
{% macro built_watermark(column) -%}
    coalesce((select max(built.{{ column }}) from {{ this }} as built), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}))
{%- endmacro %}

{#- Post-hook: drop the keys the model holds that `driver` no longer has (tombstoned or newly
    quarantined records). Runs after the merge, inside the model's transaction.
    With `quarantine_streams`: when none of their records was quarantined since the model's last
    run (fingerprint in its table comment, macros/input_fingerprints.sql), keys can only have left
    as tombstones, so only the keys of `tombstones` (a subquery of the key, or none when the driver
    keeps no tombstones to lose) are deleted instead of diffing every key. -#}
{% macro delete_keys_not_in(key, driver, quarantine_streams=none, tombstones=none) -%}
    {%- if not is_incremental() -%}
    select 1
    {%- elif quarantine_streams is not none and sfa.quarantine_unchanged(quarantine_streams) -%}
        {%- if tombstones is none -%}
    select 1
        {%- else -%}
    delete from {{ this }}
    where {{ key }} in {{ tombstones }}
        {%- endif -%}
    {%- else -%}
    delete from {{ this }}
    where {{ key }} in (
        select built.{{ key }} from {{ this }} as built
        except
        select present.{{ key }} from {{ driver }} as present
    )
    {%- endif -%}
{%- endmacro %}

{#- Keys whose current version in `driver` (a subquery of key and version columns) is not one
    this model was built from: new versions, new keys, keys back from quarantine. For one-to-many
    models where `refreshed_at` cannot serve as a watermark because a key may leave no row. -#}
{% macro keys_with_unbuilt_versions(driver, key, version) -%}
    select unbuilt.{{ key }}
    from (
        select current_versions.{{ key }}, current_versions.{{ version }} from {{ driver }} as current_versions
        except
        select built.{{ key }}, built.{{ version }} from {{ this }} as built
    ) as unbuilt
{%- endmacro %}

{#- Post-hook for the same models: delete the rows built from a version `driver` no longer has as
    current (replaced by a version with no rows, tombstoned, quarantined). Keys re-inserted by the
    merge hold only current versions by then, so they are untouched. -#}
{% macro delete_stale_versions(key, version, driver) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ key }} in (
        select stale.{{ key }}
        from (
            select built.{{ key }}, built.{{ version }} from {{ this }} as built
            except
            select current_versions.{{ key }}, current_versions.{{ version }} from {{ driver }} as current_versions
        ) as stale
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Null-safe "the two values differ" (the diff of stored vs current input columns). -#}
{% macro differs(a, b) -%}
    {{ return(adapter.dispatch('differs', 'sfa')(a, b)) }}
{%- endmacro %}

{% macro default__differs(a, b) -%}
    ({{ a }} is distinct from {{ b }})
{%- endmacro %}

{% macro spark__differs(a, b) -%}
    (not ({{ a }} <=> {{ b }}))
{%- endmacro %}

{#- Post-hook of link tables that keep removed rows (`is_removed`, int_crm__activity_links): drop
    those removed more than var removed_link_retention_days ago. A downstream model whose last run
    is older than that diffs every key instead of reading the removed rows (int_leads_enriched). -#}
{% macro purge_removed_rows() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where is_removed
        and refreshed_at < {{ dbt.dateadd('day', -1 * var('removed_link_retention_days'), sfa.refreshed_at()) }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- A boolean SQL expression evaluated now (in the execute phase; false while parsing). For checks
    that decide which diff a model's incremental run needs. -#}
{% macro query_is_true(expression) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set result = run_query('select ' ~ expression) -%}
    {{ return(result is not none and result.columns[0].values()[0] in (true, 1)) }}
{%- endmacro %}

{#- Predicate "`key` is one of `keys` (a subquery)" for a query that reads the rows of a few keys
    from `relation`, a table and the only relation in the query's FROM. On DuckDB the keys are
    matched on the key column alone and the rows fetched by rowid: with a plain `key in (...)` the
    scan reads every column of every row before the filter applies. 1% of a million leads (33
    columns) out of base_crm__leads: 0.135 s with `in`, 0.025 s by rowid. -#}
{% macro key_in(relation, key, keys) -%}
    {{ return(adapter.dispatch('key_in', 'sfa')(relation, key, keys)) }}
{%- endmacro %}

{% macro default__key_in(relation, key, keys) -%}
    {{ key }} in ({{ keys }})
{%- endmacro %}

{% macro duckdb__key_in(relation, key, keys) -%}
    rowid in (select keyed.rowid from {{ relation }} as keyed where keyed.{{ key }} in ({{ keys }}))
{%- endmacro %}
