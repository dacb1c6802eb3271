{#-
    Table and view models on DuckDB are replaced in place, inside the model's transaction:
    `create or replace table|view ... as (...)`, then COMMIT. DuckDB DDL is transactional, so
    readers see the old relation until the commit, as with the default swap.

    The defaults (dbt-duckdb's table, dbt's view) build `<name>__dbt_tmp`, rename the old relation to
    `<name>__dbt_backup`, rename the new one into place and drop the backup. Each rename and drop is an
    adapter call that renders a fresh macro context, about 15 ms of Python apiece under the GIL; with
    59 table and view models that was ~2.6 s of every run, incremental or not (py-spy, 2-core
    machine, where dbt's Python and DuckDB share the CPU).

    Enforced contracts, grants, indexes and Python models are not handled here (this project uses
    none of them) and raise a compiler error rather than being ignored. Postgres and Spark keep
    their adapters' materializations.
-#}

{%- macro _sfa_replace_in_place_guard() -%}
    {%- set contract = config.get('contract') -%}
    {%- if (contract and contract.enforced) or config.get('grants') or config.get('indexes')
           or model['language'] != 'sql' -%}
        {%- do exceptions.raise_compiler_error(
            "macros/materializations/duckdb_replace_in_place.sql does not handle contracts, grants, "
            ~ "indexes or Python models (model " ~ model['unique_id'] ~ ")") -%}
    {%- endif -%}
{%- endmacro -%}

{%- macro _sfa_replace_in_place(relation_type) -%}
    {{ _sfa_replace_in_place_guard() }}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type=relation_type) -%}
    {%- set sql_header = config.get('sql_header', none) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- A table that was a view (or the reverse) cannot be replaced by name. -#}
    {%- if existing_relation is not none and existing_relation.type != relation_type -%}
        {{ adapter.drop_relation(existing_relation) }}
    {%- endif -%}

    {% call statement('main') -%}
        {{ sql_header if sql_header is not none }}
        create or replace {{ relation_type }} {{ target_relation }} as (
            {{ sql }}
        );
    {%- endcall %}

    {{ return(_sfa_commit_model(target_relation)) }}
{%- endmacro -%}

{#- The end of every DuckDB materialization here: docs, post-hooks around the COMMIT. -#}
{%- macro _sfa_commit_model(target_relation) -%}
    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmacro -%}

{% materialization table, adapter='duckdb' %}
    {{ return(_sfa_replace_in_place('table')) }}
{% endmaterialization %}

{% materialization view, adapter='duckdb' %}
    {{ return(_sfa_replace_in_place('view')) }}
{% endmaterialization %}
