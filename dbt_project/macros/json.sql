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

{#-
    Call block around a base model's select list over `relation`: on DuckDB it parses `column`
    once per row instead of once per field. `json_extract_string` with a single path re-parses the
    whole document on every call; with a list of paths it parses it once (measured on the 1,000,000
    sandbox leads, 30 fields of ~950-byte records: 14.2 s per field vs 2.6 s as one list). The block
    must be `select ... from <relation>`; every `json_field` in it with a literal path becomes an
    element of one list, extracted in a subquery. Other engines get the block unchanged.
-#}
{% macro json_parsed_once(relation, column) -%}
    {{ return(adapter.dispatch('json_parsed_once', 'sfa')(relation, column, caller())) }}
{%- endmacro %}

{% macro default__json_parsed_once(relation, column, body) -%}
    {{ body }}
{%- endmacro %}

{% macro duckdb__json_parsed_once(relation, column, body) -%}
    {%- set tail = 'from ' ~ relation -%}
    {%- if not body.rstrip().endswith(tail) -%}
        {{ exceptions.raise_compiler_error("json_parsed_once: the block must end with '" ~ tail ~ "'") }}
    {%- endif -%}
    {%- set paths = [] -%}
    {%- for path in modules.re.findall("json_extract_string\\(" ~ modules.re.escape(column) ~ ", '(\\$[^']*)'\\)", body) -%}
        {%- if path not in paths -%}{%- do paths.append(path) -%}{%- endif -%}
    {%- endfor -%}
    {%- if not paths -%}
        {{ return(body) }}
    {%- endif -%}
    {#- a namespace: a plain `set` inside a loop does not outlive the loop #}
    {%- set rewritten = namespace(select_list=body.rstrip()[:-(tail | length)]) -%}
    {%- for path in paths -%}
        {%- set rewritten.select_list = rewritten.select_list.replace(
            "json_extract_string(" ~ column ~ ", '" ~ path ~ "')", "_parsed_fields[" ~ loop.index ~ "]") -%}
    {%- endfor -%}
    {{ rewritten.select_list }}
    from (
        select {{ relation }}.*, json_extract_string({{ column }}, [{% for path in paths %}'{{ path }}'{{ ", " if not loop.last }}{% endfor %}]) as _parsed_fields
        from {{ relation }}
    ) as {{ relation }}
{%- endmacro %}
