-- How well each forecast model predicted past months, company-wide and per team: forecasts made at
-- the start of each month (forecast_backtest) against what was won.

{% set models = ['stage_weighted', 'historical', 'rep_commit', 'manager_adjusted'] %}

with

backtest as (

    select * from {{ ref('forecast_backtest') }}

),

by_team as (

    select
        coalesce(team_name, 'unassigned') as scope,
        period_month,
        {% for model in models %}sum({{ model }}_cny) as {{ model }}_cny,
        {% endfor %}sum(actual_won_cny) as actual_won_cny
    from backtest
    group by 1, 2

),

by_company as (

    select
        'company' as scope,
        period_month,
        {% for model in models %}sum({{ model }}_cny) as {{ model }}_cny,
        {% endfor %}sum(actual_won_cny) as actual_won_cny
    from backtest
    group by 1, 2

),

periods as (

    select * from by_company
    union all
    select * from by_team

),

unpivoted as (

    {% for model in models %}
    select scope, period_month, '{{ model }}' as forecast_model, {{ model }}_cny as forecast_cny, actual_won_cny
    from periods
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        forecast_model,
        scope,
        count(*) as periods,
        cast(sum(forecast_cny) as {{ sfa.type_amount() }}) as forecast_cny,
        cast(sum(actual_won_cny) as {{ sfa.type_amount() }}) as actual_won_cny,
        cast(sum(forecast_cny - actual_won_cny) as {{ sfa.type_amount() }}) as total_error_cny,
        cast(sum(abs(forecast_cny - actual_won_cny)) as {{ sfa.type_amount() }}) as total_absolute_error_cny,
        {{ sfa.ratio('sum(abs(forecast_cny - actual_won_cny))', 'sum(actual_won_cny)', 4) }} as weighted_absolute_percentage_error,
        1 - {{ sfa.ratio('sum(abs(forecast_cny - actual_won_cny))', 'sum(actual_won_cny)', 4) }} as accuracy,
        {{ sfa.ratio('sum(forecast_cny - actual_won_cny)', 'sum(actual_won_cny)', 4) }} as bias,
        rank() over (
            partition by scope
            order by {{ sfa.ratio('sum(abs(forecast_cny - actual_won_cny))', 'sum(actual_won_cny)', 4) }}
        ) as model_rank
    from unpivoted
    group by 1, 2

)

select * from final
