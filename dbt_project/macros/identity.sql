{#-
    Canonical ids from `quality.identity_map` (source_contract.md section 5) for one stream's
    records. The quality layer names entities by the stream's table (`crm_leads`) or by a short
    noun (`lead`); both spellings are accepted so that neither side has to rename.
-#}
{% macro identity_for(stream, only_ids=none) -%}
    select
        record_id,
        max(canonical_id) as canonical_id
    from {{ source('quality', 'identity_map') }}
    where {{ sfa._identity_entities(stream) }}
    {%- if only_ids is not none %}
        and record_id in {{ only_ids }}
    {%- endif %}
    group by record_id
{%- endmacro %}

{% macro _identity_entities(stream) -%}
    {%- set aliases = var('identity_entity_aliases')[stream] -%}
    entity in ('{{ stream }}'{% for alias in aliases %}, '{{ alias }}'{% endfor %})
{%- endmacro %}

{#-
    An order-independent fingerprint of one stream's identity map entries, as text. The identity
    staging models keep the fingerprint of the map they last applied in their table comment: while
    the map is unchanged (a run in which no record joined, left or moved between clusters), no
    canonical id can have changed, so the run skips diffing every built row against the whole map
    (about a second per run at a million leads). Engines without table comments always diff.
-#}
{% macro identity_fingerprint(stream) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set fingerprint = adapter.dispatch('identity_fingerprint_sql', 'sfa')() -%}
    {%- set result = run_query("select " ~ fingerprint ~ " from " ~ source('quality', 'identity_map')
                               ~ " where " ~ sfa._identity_entities(stream)) -%}
    {{ return(none if result is none else 'identity_map ' ~ result.columns[0].values()[0]) }}
{%- endmacro %}

{% macro default__identity_fingerprint_sql() -%}
    cast(count(*) as {{ dbt.type_string() }}) || ':' || cast(coalesce(sum(cast(hash(record_id, canonical_id) as decimal(38, 0))), 0) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__identity_fingerprint_sql() -%}
    cast(count(*) as varchar) || ':' || cast(coalesce(sum(hash(record_id, canonical_id)), 0) as varchar)
{%- endmacro %}

{% macro postgres__identity_fingerprint_sql() -%}
    cast(count(*) as text) || ':' || cast(coalesce(sum(('x' || substr(md5(record_id || chr(31) || canonical_id), 1, 16))::bit(64)::bigint::numeric), 0) as text)
{%- endmacro %}

{#- The fingerprint stored by the last run (none when there is none or the engine keeps no comments). -#}
{% macro stored_identity_fingerprint() -%}
    {{ return(adapter.dispatch('stored_identity_fingerprint', 'sfa')()) }}
{%- endmacro %}

{% macro default__stored_identity_fingerprint() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__stored_identity_fingerprint() -%}
    {%- set result = run_query("select comment from duckdb_tables() where database_name = '" ~ this.database
                               ~ "' and schema_name = '" ~ this.schema ~ "' and table_name = '" ~ this.identifier ~ "'") -%}
    {{ return(result.columns[0].values()[0] if result is not none and result.rows | length == 1 else none) }}
{%- endmacro %}

{% macro postgres__stored_identity_fingerprint() -%}
    {%- set result = run_query("select obj_description('" ~ this ~ "'::regclass, 'pg_class')") -%}
    {{ return(result.columns[0].values()[0] if result is not none and result.rows | length == 1 else none) }}
{%- endmacro %}

{#- Post-hook: remember the fingerprint of the map this run applied. -#}
{% macro remember_identity_fingerprint(stream) -%}
    {%- set fingerprint = sfa.identity_fingerprint(stream) if target.type in ('duckdb', 'postgres') else none -%}
    {%- if fingerprint is none -%}
    select 1
    {%- else -%}
    comment on table {{ this }} is '{{ fingerprint }}'
    {%- endif -%}
{%- endmacro %}

{#- A CRM user reference: a list of openUserIds (owner, created_by) or a plain string. -#}
{% macro crm_user_ref(column, path) -%}
    coalesce(
        {{ sfa.text_field(column, path ~ '[0]') }},
        case when {{ sfa.text_field(column, path) }} not like '[%' then {{ sfa.text_field(column, path) }} end
    )
{%- endmacro %}

{#- A record's canonical id: its identity cluster (a row of `identity_for`), else `<source>:<id>`. -#}
{% macro canonical_id(identity_alias, source, id_expr) -%}
    coalesce({{ identity_alias }}.canonical_id, '{{ source }}:' || cast({{ id_expr }} as {{ dbt.type_string() }}))
{%- endmacro %}

{#-
    Body of the staging models that carry a canonical id (leads, contacts, CRM accounts, ERP
    customers): the base table's current, non-quarantined rows plus `<canonical_column>` from the
    identity map. These are key-incremental tables rather than views (macros/incremental_keys.sql):
    joining the identity map costs about a second per read at a million leads, and they are read
    by several models and tests each run. A run rewrites the ids extracted since the last one, ids
    new to the table (or back from quarantine) and, when the map's fingerprint differs from the one
    the table was last built with, ids whose canonical id changed; the post-hook drops ids that
    were quarantined since. `refreshed_at` tells downstream models which rows changed.
-#}
{% macro staging_with_identity(stream, base_model, id_column, canonical_column, source) -%}
{%- set base = ref(base_model) -%}

{%- set fingerprint = sfa.identity_fingerprint(stream) if is_incremental() else none -%}
{%- set identity_changed = is_incremental() and (fingerprint is none or fingerprint != sfa.stored_identity_fingerprint()) -%}
{#- The whole map when it is diffed (or in a full build), else only the affected ids' entries. -#}
{%- set whole_map = not is_incremental() or identity_changed %}

with

{%- if whole_map %}

identity as (

    {{ sfa.identity_for(stream) }}

),

{%- endif %}

{%- if is_incremental() %}

affected as (

    {{ sfa.keys_changed_since_built(base, id_column) }}
    {%- if identity_changed %}

    union

    select built.{{ id_column }}
    from {{ this }} as built
    left join identity
        on cast(built.{{ id_column }} as {{ dbt.type_string() }}) = identity.record_id
    where {{ sfa.differs('built.' ~ canonical_column, sfa.canonical_id('identity', source, 'built.' ~ id_column)) }}
    {%- endif %}

),

{%- endif %}

{%- if not whole_map %}

identity as (

    {{ sfa.identity_for(stream, '(select cast(' ~ id_column ~ ' as ' ~ dbt.type_string() ~ ') from affected)') }}

),

{%- endif %}

renamed as (

    select *
    from {{ base }}
    where {{ sfa.not_quarantined(stream, id_column) }}
    {%- if is_incremental() %}
        and {{ id_column }} in (select {{ id_column }} from affected)
    {%- endif %}

),

final as (

    select
        renamed.*,
        {{ sfa.canonical_id('identity', source, 'renamed.' ~ id_column) }} as {{ canonical_column }},
        {{ sfa.refreshed_at() }} as refreshed_at
    from renamed
    left join identity
        on cast(renamed.{{ id_column }} as {{ dbt.type_string() }}) = identity.record_id

)

select * from final
{%- endmacro %}

{#- Config shared by those models: post-hooks delete ids quarantined since the last run and remember
    the identity map's fingerprint. -#}
{% macro staging_with_identity_config(stream, base_model, id_column) -%}
    {{ config(
        materialized='incremental',
        unique_key=id_column,
        incremental_strategy='delete+insert',
        post_hook=[
            "{{ sfa.delete_keys_not_in('" ~ id_column ~ "', '(select " ~ id_column ~ " from ' ~ ref('" ~ base_model ~ "') ~ ' where ' ~ sfa.not_quarantined('" ~ stream ~ "', '" ~ id_column ~ "') ~ ')') }}",
            "{{ sfa.remember_identity_fingerprint('" ~ stream ~ "') }}",
        ],
    ) }}
{%- endmacro %}
