{#-
    Time conversions into the business time zone (var `business_timezone`, Asia/Shanghai).
    All source times are instants: CRM epoch milliseconds, HubSpot ISO-8601 UTC strings, Odoo
    "YYYY-MM-DD HH:MM:SS" UTC strings. Marts work in naive local timestamps/dates of that zone, so
    a month is always a business month whatever the warehouse session's time zone.
-#}

{#- A naive UTC timestamp -> naive business-zone timestamp. -#}
{% macro utc_to_business_time(ts) -%}
    {{ return(adapter.dispatch('utc_to_business_time', 'sfa')(ts)) }}
{%- endmacro %}

{% macro default__utc_to_business_time(ts) -%}
    timezone('{{ var("business_timezone") }}', timezone('UTC', {{ ts }}))
{%- endmacro %}

{% macro postgres__utc_to_business_time(ts) -%}
    ((({{ ts }}) at time zone 'UTC') at time zone '{{ var("business_timezone") }}')
{%- endmacro %}

{% macro spark__utc_to_business_time(ts) -%}
    from_utc_timestamp({{ ts }}, '{{ var("business_timezone") }}')
{%- endmacro %}

{#- Epoch milliseconds (number or numeric text) -> naive UTC timestamp. -#}
{% macro epoch_ms_to_utc(expr) -%}
    {{ return(adapter.dispatch('epoch_ms_to_utc', 'sfa')(expr)) }}
{%- endmacro %}

{% macro default__epoch_ms_to_utc(expr) -%}
    epoch_ms({{ sfa.to_bigint(expr) }})
{%- endmacro %}

{% macro postgres__epoch_ms_to_utc(expr) -%}
    (to_timestamp({{ sfa.to_bigint(expr) }} / 1000.0) at time zone 'UTC')
{%- endmacro %}

{% macro spark__epoch_ms_to_utc(expr) -%}
    to_utc_timestamp(timestamp_millis({{ sfa.to_bigint(expr) }}), current_timezone())
{%- endmacro %}

{#- Epoch milliseconds -> business-zone timestamp / date. -#}
{% macro epoch_ms_to_local(expr) -%}
    {{ sfa.utc_to_business_time(sfa.epoch_ms_to_utc(expr)) }}
{%- endmacro %}

{% macro epoch_ms_to_local_date(expr) -%}
    cast({{ sfa.epoch_ms_to_local(expr) }} as date)
{%- endmacro %}

{#- ISO-8601 UTC text ("2026-01-02T03:04:05.678Z") or Odoo UTC text ("2026-01-02 03:04:05")
    -> naive UTC timestamp. Parsed as a naive timestamp so that no session time zone applies. -#}
{% macro utc_text_to_utc(expr) -%}
    {{ return(adapter.dispatch('utc_text_to_utc', 'sfa')(expr)) }}
{%- endmacro %}

{% macro default__utc_text_to_utc(expr) -%}
    try_cast(replace(replace(replace({{ expr }}, 'T', ' '), 'Z', ''), '+00:00', '') as timestamp)
{%- endmacro %}

{% macro postgres__utc_text_to_utc(expr) -%}
    case when {{ expr }} ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}'
        then cast(replace(replace(replace({{ expr }}, 'T', ' '), 'Z', ''), '+00:00', '') as timestamp) end
{%- endmacro %}

{% macro spark__utc_text_to_utc(expr) -%}
    to_utc_timestamp(to_timestamp(replace(replace(replace({{ expr }}, 'T', ' '), 'Z', ''), '+00:00', '')), current_timezone())
{%- endmacro %}

{% macro utc_text_to_local(expr) -%}
    {{ sfa.utc_to_business_time(sfa.utc_text_to_utc(expr)) }}
{%- endmacro %}

{#- A calendar date "YYYY-MM-DD" (already a business date): just typed. -#}
{% macro text_to_date(expr) -%}
    {{ return(adapter.dispatch('text_to_date', 'sfa')(expr)) }}
{%- endmacro %}

{% macro default__text_to_date(expr) -%}
    try_cast({{ expr }} as date)
{%- endmacro %}

{% macro postgres__text_to_date(expr) -%}
    case when {{ expr }} ~ '^\d{4}-\d{2}-\d{2}$' then cast({{ expr }} as date) end
{%- endmacro %}

{#- "YYYY-MM" of a date or timestamp. -#}
{% macro month_key(expr) -%}
    {{ return(adapter.dispatch('month_key', 'sfa')(expr)) }}
{%- endmacro %}

{% macro default__month_key(expr) -%}
    strftime(cast({{ expr }} as date), '%Y-%m')
{%- endmacro %}

{% macro postgres__month_key(expr) -%}
    to_char({{ expr }}, 'YYYY-MM')
{%- endmacro %}

{% macro spark__month_key(expr) -%}
    date_format({{ expr }}, 'yyyy-MM')
{%- endmacro %}

{#- First day of the month of a date/timestamp, as a date. -#}
{% macro month_start(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}

{#- Whole days from a to b (b - a) between two dates or timestamps, by calendar date. -#}
{% macro days_between(a, b) -%}
    {{ dbt.datediff('cast(' ~ a ~ ' as date)', 'cast(' ~ b ~ ' as date)', 'day') }}
{%- endmacro %}

{#- "Today" for the marts: var as_of_date, else env SFA_AS_OF_DATE, else the warehouse's current date. -#}
{% macro as_of_date() -%}
    {%- set day = var('as_of_date', '') or env_var('SFA_AS_OF_DATE', '') -%}
    {%- if day -%}
        cast('{{ day }}' as date)
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as date)
    {%- endif -%}
{%- endmacro %}
