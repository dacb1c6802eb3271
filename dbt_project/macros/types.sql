{#-
    Typing helpers shared by the staging models. Bad values become NULL rather than failing the
    whole build: the quality layer has already quarantined records that break error-level rules,
    and anything left that does not parse is a documented NULL, never a crash.
-#}

{#- Exact money: numeric(18,2) on every engine (never float). -#}
{% macro type_amount() -%}
    {{ return(adapter.dispatch('type_amount', 'sfa')()) }}
{%- endmacro %}
{% macro default__type_amount() -%} numeric(18,2) {%- endmacro %}
{% macro spark__type_amount() -%} decimal(18,2) {%- endmacro %}

{#- 8-byte floating point (dbt.type_float() is a 4-byte REAL on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'sfa')()) }}
{%- endmacro %}
{% macro default__type_double() -%} double precision {%- endmacro %}
{% macro spark__type_double() -%} double {%- endmacro %}

{% macro type_rate() -%}
    {{ return(adapter.dispatch('type_rate', 'sfa')()) }}
{%- endmacro %}
{% macro default__type_rate() -%} numeric(18,6) {%- endmacro %}
{% macro spark__type_rate() -%} decimal(18,6) {%- endmacro %}

{#- Cast a text expression to a number type, NULL when it is not a number. -#}
{% macro safe_number(expr, type) -%}
    {{ return(adapter.dispatch('safe_number', 'sfa')(expr, type)) }}
{%- endmacro %}

{% macro default__safe_number(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro postgres__safe_number(expr, type) -%}
    case when trim({{ expr }}) ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
        then cast(cast(trim({{ expr }}) as numeric) as {{ type }}) end
{%- endmacro %}

{#- Money from a text/JSON number: exact decimal with two places (rounded half up). -#}
{% macro to_amount(expr) -%}
    {{ sfa.safe_number(expr, sfa.type_amount()) }}
{%- endmacro %}

{% macro to_bigint(expr) -%}
    {{ return(adapter.dispatch('to_bigint', 'sfa')(expr)) }}
{%- endmacro %}
{% macro default__to_bigint(expr) -%}
    cast({{ sfa.safe_number(expr, 'numeric(38,6)') }} as bigint)
{%- endmacro %}
{% macro spark__to_bigint(expr) -%}
    cast(try_cast({{ expr }} as decimal(38,6)) as bigint)
{%- endmacro %}

{% macro to_int(expr) -%}
    cast({{ sfa.to_bigint(expr) }} as integer)
{%- endmacro %}

{% macro to_double(expr) -%}
    {{ sfa.safe_number(expr, sfa.type_double()) }}
{%- endmacro %}

{#- JSON booleans arrive as 'true'/'false' text; strings such as 'True' or '1' count too. -#}
{% macro to_boolean(expr) -%}
    case when lower(cast({{ expr }} as {{ dbt.type_string() }})) in ('true', '1', 't', 'yes') then true
         when lower(cast({{ expr }} as {{ dbt.type_string() }})) in ('false', '0', 'f', 'no') then false end
{%- endmacro %}

{#- A text field, with empty strings as NULL. Not trimmed: engines disagree on what whitespace
    is (DuckDB trims U+3000, Postgres does not), and normalising is the quality layer's job. -#}
{% macro text_field(column, path) -%}
    nullif({{ sfa.json_field(column, path) }}, '')
{%- endmacro %}

{#- Odoo sends `false` for every empty field; treat it as NULL (never use on boolean fields). -#}
{% macro odoo_field(column, path) -%}
    nullif(nullif({{ sfa.json_field(column, path) }}, ''), 'false')
{%- endmacro %}

{#- Odoo many2one `[id, "display name"]` (or `false`): the id as bigint, the name as text. -#}
{% macro odoo_many2one_id(column, path) -%}
    {{ sfa.to_bigint(sfa.json_field(column, path ~ '[0]')) }}
{%- endmacro %}

{% macro odoo_many2one_name(column, path) -%}
    nullif({{ sfa.json_field(column, path ~ '[1]') }}, '')
{%- endmacro %}
