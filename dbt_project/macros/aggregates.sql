{#- Median of a numeric expression as an ordered-set aggregate (DuckDB, Postgres, Spark >= 3.3). -#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'sfa')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{#- a / b, NULL when b is 0 or NULL (rates and ratios never divide by zero). -#}
{% macro safe_divide(a, b) -%}
    ({{ a }}) / nullif({{ b }}, 0)
{%- endmacro %}

{#- A ratio rounded to `places` decimals as a plain double (shares, rates). -#}
{% macro ratio(a, b, places=4) -%}
    round(cast({{ sfa.safe_divide(a, b) }} as {{ dbt.type_numeric() }}), {{ places }})
{%- endmacro %}

{#- Count of rows where a boolean condition holds. -#}
{% macro count_if(condition) -%}
    sum(case when {{ condition }} then 1 else 0 end)
{%- endmacro %}

{#- Money in the reporting currency: round(amount * rate, 2), half up, exact. -#}
{% macro to_reporting_currency(amount, rate) -%}
    cast(round({{ amount }} * {{ rate }}, 2) as {{ sfa.type_amount() }})
{%- endmacro %}
