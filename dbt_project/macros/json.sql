{#-
    Reading fields out of the raw `_record` JSON, one spelling per adapter.

    `path` is a JSONPath-like string without the leading `$.`: `name`, `owner[0]`,
    `properties.channel`, `related_object_data[2].id`. Keys are plain identifiers.
-#}

{% macro _json_path_segments(path) -%}
    {%- set parts = path | replace('[', '.') | replace(']', '') -%}
    {{- return(parts.split('.') | reject('equalto', '') | list) -}}
{%- endmacro %}

{#- The field as text (JSON strings unquoted, numbers and booleans as their literal text). -#}
{% macro json_field(column, path) -%}
    {{ return(adapter.dispatch('json_field', 'sfa')(column, path)) }}
{%- endmacro %}

{% macro default__json_field(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path }}')
{%- endmacro %}

{% macro duckdb__json_field(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path }}')
{%- endmacro %}

{% macro postgres__json_field(column, path) -%}
    ({{ column }}::jsonb #>> '{ {{- sfa._json_path_segments(path) | join(',') -}} }')
{%- endmacro %}

{% macro spark__json_field(column, path) -%}
    get_json_object({{ column }}, '$.{{ path }}')
{%- endmacro %}

{#- `$` plus `.path` (nothing for the root). -#}
{% macro _jsonpath(path) -%}
    {{- '$' ~ ('.' ~ path if path else '') -}}
{%- endmacro %}

{#- The JSON value at `path` re-serialised as text (lists and objects kept as JSON). -#}
{% macro json_value_text(column, path) -%}
    {{ return(adapter.dispatch('json_value_text', 'sfa')(column, path)) }}
{%- endmacro %}

{% macro default__json_value_text(column, path) -%}
    cast(json_extract({{ column }}, '{{ sfa._jsonpath(path) }}') as varchar)
{%- endmacro %}

{% macro postgres__json_value_text(column, path) -%}
    (({{ column }}::jsonb #> '{ {{- sfa._json_path_segments(path) | join(',') -}} }')::text)
{%- endmacro %}

{% macro spark__json_value_text(column, path) -%}
    get_json_object({{ column }}, '{{ sfa._jsonpath(path) }}')
{%- endmacro %}

{#- Element `index_expr` (a SQL integer expression, 0-based) of the JSON array at `array_path`,
    then `subpath` inside it (may be empty), as text. Used with a small index spine to unnest
    short lists the same way on every engine. -#}
{% macro json_array_element(column, array_path, index_expr, subpath='') -%}
    {{ return(adapter.dispatch('json_array_element', 'sfa')(column, array_path, index_expr, subpath)) }}
{%- endmacro %}

{% macro default__json_array_element(column, array_path, index_expr, subpath='') -%}
    json_extract_string({{ column }}, '{{ sfa._jsonpath(array_path) }}[' || cast({{ index_expr }} as varchar) || ']{{ "." ~ subpath if subpath else "" }}')
{%- endmacro %}

{% macro postgres__json_array_element(column, array_path, index_expr, subpath='') -%}
    ((({{ column }}::jsonb #> '{ {{- sfa._json_path_segments(array_path) | join(',') -}} }') -> ({{ index_expr }})::int) #>> '{ {{- sfa._json_path_segments(subpath) | join(',') -}} }')
{%- endmacro %}

{% macro spark__json_array_element(column, array_path, index_expr, subpath='') -%}
    get_json_object({{ column }}, concat('{{ sfa._jsonpath(array_path) }}[', cast({{ index_expr }} as string), ']{{ "." ~ subpath if subpath else "" }}'))
{%- endmacro %}

{#- Number of elements of the JSON array at `path`; 0 when absent or not an array. -#}
{% macro json_array_length(column, path) -%}
    {{ return(adapter.dispatch('json_array_length', 'sfa')(column, path)) }}
{%- endmacro %}

{% macro default__json_array_length(column, path) -%}
    coalesce(case when json_type({{ column }}, '{{ sfa._jsonpath(path) }}') = 'ARRAY' then json_array_length({{ column }}, '{{ sfa._jsonpath(path) }}') end, 0)
{%- endmacro %}

{% macro postgres__json_array_length(column, path) -%}
    coalesce(case when jsonb_typeof({{ column }}::jsonb #> '{ {{- sfa._json_path_segments(path) | join(',') -}} }') = 'array'
        then jsonb_array_length({{ column }}::jsonb #> '{ {{- sfa._json_path_segments(path) | join(',') -}} }') end, 0)
{%- endmacro %}

{% macro spark__json_array_length(column, path) -%}
    coalesce(json_array_length(get_json_object({{ column }}, '{{ sfa._jsonpath(path) }}')), 0)
{%- endmacro %}
