{#- Layer schemas by their plain names (staging, intermediate, marts, seeds, snapshots), with an
    optional prefix from SFA_SCHEMA_PREFIX so that several warehouses (tests, Postgres tenants)
    can share one database without clashing. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = env_var('SFA_SCHEMA_PREFIX', '') -%}
    {%- if custom_schema_name is none -%}
        {{ prefix ~ target.schema }}
    {%- else -%}
        {{ prefix ~ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
