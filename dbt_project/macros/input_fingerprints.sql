{#-
    Fingerprints of the quality tables a key-incremental model depends on, kept in the model's
    table comment by its last run (DuckDB and Postgres; engines without table comments always
    diff). While a fingerprint is unchanged, no record of the stream was quarantined, released from
    quarantine, or moved between identity clusters since that run, so the run can skip diffing
    every built key against the whole input (an EXCEPT over millions of keys per model at a million
    leads) and work from watermarks alone.

    The comment holds `name value` pairs joined by '; ', e.g.
    `identity_map 812:-123; quarantine 4:567`.
-#}

{#- An order-independent fingerprint, as text, of the rows of `relation` matching `where`, over the
    two text columns `a` and `b`. -#}
{% macro _fingerprint(relation, where, a, b) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set expression = adapter.dispatch('fingerprint_sql', 'sfa')(a, b) -%}
    {%- set result = run_query("select " ~ expression ~ " from " ~ relation ~ " where " ~ where) -%}
    {{ return(none if result is none else result.columns[0].values()[0]) }}
{%- endmacro %}

{% macro default__fingerprint_sql(a, b) -%}
    cast(count(*) as {{ dbt.type_string() }}) || ':' || cast(coalesce(sum(cast(hash({{ a }}, {{ b }}) as decimal(38, 0))), 0) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__fingerprint_sql(a, b) -%}
    cast(count(*) as varchar) || ':' || cast(coalesce(sum(hash({{ a }}, {{ b }})), 0) as varchar)
{%- endmacro %}

{% macro postgres__fingerprint_sql(a, b) -%}
    cast(count(*) as text) || ':' || cast(coalesce(sum(('x' || substr(md5({{ a }} || chr(31) || {{ b }}), 1, 16))::bit(64)::bigint::numeric), 0) as text)
{%- endmacro %}

{#- The identity map entries of one stream. -#}
{% macro identity_fingerprint(stream) -%}
    {{ return(sfa._fingerprint(source('quality', 'identity_map'), sfa._identity_entities(stream), 'record_id', 'canonical_id')) }}
{%- endmacro %}

{#- The quarantine rows of the given streams (a list). -#}
{% macro quarantine_fingerprint(streams) -%}
    {{ return(sfa._fingerprint(source('quality', 'quarantine_current'),
                               "stream in ('" ~ streams | join("', '") ~ "')", 'stream', 'record_id')) }}
{%- endmacro %}

{#- The current fingerprints of a model's inputs: {'identity_map': ..., 'quarantine': ...}, plus one
    per entry of `other_quarantines` (name -> streams) for the quarantine of streams the model reads
    through another model (int_leads_enriched: the activities behind int_crm__activity_links). -#}
{% macro input_fingerprints(quarantine_streams, identity_stream=none, other_quarantines={}) -%}
    {%- set fingerprints = {'quarantine': sfa.quarantine_fingerprint(quarantine_streams)} -%}
    {%- if identity_stream is not none -%}
        {%- do fingerprints.update({'identity_map': sfa.identity_fingerprint(identity_stream)}) -%}
    {%- endif -%}
    {%- for name, streams in other_quarantines.items() -%}
        {%- do fingerprints.update({name: sfa.quarantine_fingerprint(streams)}) -%}
    {%- endfor -%}
    {{ return(fingerprints) }}
{%- endmacro %}

{#- The fingerprints stored by this model's last run, as a dict (empty when there are none). -#}
{% macro stored_fingerprints() -%}
    {%- set comment = adapter.dispatch('stored_table_comment', 'sfa')() -%}
    {%- set stored = {} -%}
    {%- for pair in (comment or '').split('; ') if ' ' in pair -%}
        {%- set name, value = pair.split(' ', 1) -%}
        {%- do stored.update({name: value}) -%}
    {%- endfor -%}
    {{ return(stored) }}
{%- endmacro %}

{#- The input `name` is unchanged since this model's last run: both fingerprints known and equal.
    Only meaningful in an incremental run. -#}
{% macro input_unchanged(name, current, stored) -%}
    {%- set value = current.get(name) -%}
    {{ return(value is not none and value == stored.get(name)) }}
{%- endmacro %}

{#- In an incremental run: no record of `streams` was quarantined or released since this model's
    last run (false when unknown). `name`: under which the model remembers them ('quarantine', or
    a key of its `other_quarantines`). -#}
{% macro quarantine_unchanged(streams, name='quarantine') -%}
    {%- if not (execute and is_incremental()) -%}{{ return(false) }}{%- endif -%}
    {{ return(sfa.input_unchanged(name, {name: sfa.quarantine_fingerprint(streams)},
                                  sfa.stored_fingerprints())) }}
{%- endmacro %}

{% macro default__stored_table_comment() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__stored_table_comment() -%}
    {%- set result = run_query("select comment from duckdb_tables() where database_name = '" ~ this.database
                               ~ "' and schema_name = '" ~ this.schema ~ "' and table_name = '" ~ this.identifier ~ "'") -%}
    {{ return(result.columns[0].values()[0] if result is not none and result.rows | length == 1 else none) }}
{%- endmacro %}

{% macro postgres__stored_table_comment() -%}
    {%- set result = run_query("select obj_description('" ~ this ~ "'::regclass, 'pg_class')") -%}
    {{ return(result.columns[0].values()[0] if result is not none and result.rows | length == 1 else none) }}
{%- endmacro %}

{#- Post-hook (last in the list): remember the fingerprints of the inputs this run applied. -#}
{% macro remember_input_fingerprints(quarantine_streams, identity_stream=none, other_quarantines={}) -%}
    {%- set fingerprints = sfa.input_fingerprints(quarantine_streams, identity_stream, other_quarantines)
                           if target.type in ('duckdb', 'postgres') else {} -%}
    {%- set pairs = [] -%}
    {%- for name, value in fingerprints | dictsort if value is not none -%}
        {%- do pairs.append(name ~ ' ' ~ value) -%}
    {%- endfor -%}
    {%- if pairs -%}
    comment on table {{ this }} is '{{ pairs | join("; ") }}'
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
