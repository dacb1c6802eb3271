{#-
    Aggregates and divisions that give the same answer on every engine. DuckDB divides decimals in
    floating point while Postgres divides exactly, so ratios of counts and money are computed in
    integer arithmetic on DuckDB and rounded half away from zero everywhere.
-#}

{#- Median as an ordered-set aggregate over a double (DuckDB, Postgres, Spark >= 3.3). -#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'sfa')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by cast({{ expr }} as {{ sfa.type_double() }}))
{%- endmacro %}

{#- Arithmetic mean as a double (Postgres would otherwise return an exact numeric). -#}
{% macro mean(expr) -%}
    avg(cast({{ expr }} as {{ sfa.type_double() }}))
{%- endmacro %}

{#- a / b as a double, NULL when b is 0 or NULL. For measures that are already approximate. -#}
{% macro safe_divide(a, b) -%}
    cast({{ a }} as {{ sfa.type_double() }}) / nullif(cast({{ b }} as {{ sfa.type_double() }}), 0)
{%- endmacro %}

{#- a / b exactly, rounded half away from zero to `places` decimals, as numeric(18, places);
    NULL when b is 0 or NULL. a and b are exact numbers with at most `input_places` decimals
    (counts and money: 2). `small`: |a| and |b| stay below 10^12 (seconds between two dates) and
    places <= 4, so on DuckDB the division runs in 64-bit integers instead of 128-bit ones with the
    same result (an overflow would raise, not wrap); lead_sla's hours for a million leads cost
    half as much that way. -#}
{% macro ratio(a, b, places=4, input_places=2, small=false) -%}
    {{ return(adapter.dispatch('ratio', 'sfa')(a, b, places, input_places, small)) }}
{%- endmacro %}

{% macro default__ratio(a, b, places=4, input_places=2, small=false) -%}
    cast(round(cast({{ a }} as numeric(38, 10)) / nullif(cast({{ b }} as numeric(38, 10)), 0), {{ places }}) as numeric(18, {{ places }}))
{%- endmacro %}

{% macro spark__ratio(a, b, places=4, input_places=2, small=false) -%}
    cast(round(cast({{ a }} as decimal(38, 10)) / nullif(cast({{ b }} as decimal(38, 10)), 0), {{ places }}) as decimal(18, {{ places }}))
{%- endmacro %}

{% macro duckdb__ratio(a, b, places=4, input_places=2, small=false) -%}
    {%- set integer_type = 'bigint' if small else 'hugeint' -%}
    {%- set num = 'cast(round((' ~ a ~ ') * ' ~ 10 ** input_places ~ ') as ' ~ integer_type ~ ')' -%}
    {%- set den = 'cast(round((' ~ b ~ ') * ' ~ 10 ** input_places ~ ') as ' ~ integer_type ~ ')' -%}
    case when {{ den }} <> 0 then
        cast(
            cast(
                sign({{ num }}) * sign({{ den }})
                * ((abs({{ num }}) * {{ 2 * 10 ** places }} + abs({{ den }})) // (2 * abs({{ den }})))
            as decimal(38, 0)) * {{ '1' if places == 0 else '0.' ~ '0' * (places - 1) ~ '1' }}
        as decimal(18, {{ places }}))
    end
{%- endmacro %}

{#- Money divided by a count or by money: exact, rounded half away from zero to the cent. -#}
{% macro divide_amount(a, b) -%}
    cast({{ sfa.ratio(a, b, 2) }} as {{ sfa.type_amount() }})
{%- endmacro %}

{#- Count of rows where a boolean condition holds. -#}
{% macro count_if(condition) -%}
    sum(case when {{ condition }} then 1 else 0 end)
{%- endmacro %}

{#- Money in the reporting currency: round(amount * rate, 2), half up, exact. -#}
{% macro to_reporting_currency(amount, rate) -%}
    cast(round({{ amount }} * {{ rate }}, 2) as {{ sfa.type_amount() }})
{%- endmacro %}

{#- 1, 2, ... n+1: which of the buckets split at the ascending `thresholds` the value falls in. -#}
{% macro bucket(expr, thresholds) -%}
    case
        {% for threshold in thresholds %}when {{ expr }} < {{ threshold }} then {{ loop.index }}
        {% endfor %}else {{ thresholds | length + 1 }}
    end
{%- endmacro %}
