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

{#- Element `index_expr` (a SQL integer expression, 0-based) of the JSON array at `array_path`,
    then `subpath` inside it (may be empty), as text. Used with a small index spine to unnest
    short lists the same way on every engine. -#}
{% macro json_array_element(column, array_path, index_expr, subpath='') -%}
    {{ return(adapter.dispatch('json_array_element', 'sfa')(column, array_path, index_expr, subpath)) }}
{%- endmacro %}

{% macro default__json_array_element(column, array_path, index_expr, subpath='') -%}
    json_extract_string({{ column }}, '$.{{ array_path }}[' || cast({{ index_expr }} as varchar) || ']{{ "." ~ subpath if subpath else "" }}')
{%- endmacro %}

{% macro postgres__json_array_element(column, array_path, index_expr, subpath='') -%}
    ((({{ column }}::jsonb #> '{ {{- sfa._json_path_segments(array_path) | join(',') -}} }') -> ({{ index_expr }})::int) #>> '{ {{- sfa._json_path_segments(subpath) | join(',') -}} }')
{%- endmacro %}

{% macro spark__json_array_element(column, array_path, index_expr, subpath='') -%}
    get_json_object({{ column }}, concat('$.{{ array_path }}[', cast({{ index_expr }} as string), ']{{ "." ~ subpath if subpath else "" }}'))
{%- endmacro %}

{#- Number of elements of the JSON array at `path`; 0 when absent or not an array. -#}
{% macro json_array_length(column, path) -%}
    {{ return(adapter.dispatch('json_array_length', 'sfa')(column, path)) }}
{%- endmacro %}

{% macro default__json_array_length(column, path) -%}
    coalesce(case when json_type({{ column }}, '$.{{ path }}') = 'ARRAY' then json_array_length({{ column }}, '$.{{ path }}') end, 0)
{%- endmacro %}

{% macro postgres__json_array_length(column, path) -%}
    coalesce(case when jsonb_typeof({{ column }}::jsonb #> '{ {{- sfa._json_path_segments(path) | join(',') -}} }') = 'array'
        then jsonb_array_length({{ column }}::jsonb #> '{ {{- sfa._json_path_segments(path) | join(',') -}} }') end, 0)
{%- endmacro %}

{% macro spark__json_array_length(column, path) -%}
    coalesce(json_array_length(get_json_object({{ column }}, '$.{{ path }}')), 0)
{%- endmacro %}
