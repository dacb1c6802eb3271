{#-
    Forecasts for the current and future months at the grain `keys` (columns of
    int_opportunities_enriched): won so far in the month plus each model's expectation for deals
    open now and expected to close in the month. Win rates for the historical model are those
    learned from deals closed before the month began (int_forecast_learned_win_rates).
    `with_manager` adds the manager-adjusted model (rep grain only: submissions are per rep).
-#}
{% macro forecast_current(keys, with_manager=false) %}

with

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}
    where close_month >= {{ sfa.month_start(sfa.as_of_date()) }}

),

learned as (

    select * from {{ ref('int_forecast_learned_win_rates') }}

),

stage_learned as (

    select distinct period_month, stage, stage_closed_deals, stage_won_deals
    from learned

),

category_weights as (

    select * from {{ ref('forecast_category_weights') }}

),

deals as (

    select
        opportunities.*,
        {{ sfa.learned_win_rate('opportunities.stage_probability') }} as learned_win_rate,
        coalesce(category_weights.in_rep_commit, false) as in_rep_commit,
        coalesce(category_weights.manager_weight, 0) as manager_weight
    from opportunities
    left join learned
        on opportunities.close_month = learned.period_month
        and opportunities.sales_stage = learned.stage
        and {{ sfa.bucket(sfa.days_between('opportunities.created_at', sfa.as_of_date()), var('forecast_age_bucket_days')) }} = learned.age_bucket
        and {{ sfa.bucket('opportunities.amount_cny', var('forecast_size_bucket_cny')) }} = learned.size_bucket
    left join stage_learned
        on opportunities.close_month = stage_learned.period_month
        and opportunities.sales_stage = stage_learned.stage
    left join category_weights
        on opportunities.forecast_category = category_weights.forecast_category

),

aggregated as (

    select
        {% for key in keys %}{{ key }},
        {% endfor %}close_month as period_month,
        sum(case when is_won then amount_cny else 0 end) as won_so_far_cny,
        {{ sfa.count_if('is_open') }} as open_deals,
        sum(case when is_open then amount_cny else 0 end) as open_pipeline_cny,
        sum(case when is_open then amount_cny * stage_probability else 0 end) as stage_weighted_open_cny,
        sum(case when is_open then amount_cny * learned_win_rate else 0 end) as historical_open_cny,
        sum(case when is_open and in_rep_commit then amount_cny else 0 end) as commit_open_cny,
        sum(case when is_open then amount_cny * manager_weight else 0 end) as manager_weighted_open_cny
    from deals
    group by {% for key in keys %}{{ key }}, {% endfor %}close_month

),

{% if with_manager %}
submissions as (

    select * from {{ ref('int_forecast_submissions_latest') }}

),
{% endif %}

final as (

    select
        {% for key in keys %}aggregated.{{ key }},
        {% endfor %}aggregated.period_month,
        aggregated.open_deals,
        cast(aggregated.open_pipeline_cny as {{ sfa.type_amount() }}) as open_pipeline_cny,
        cast(aggregated.won_so_far_cny as {{ sfa.type_amount() }}) as won_so_far_cny,
        cast(aggregated.won_so_far_cny + aggregated.stage_weighted_open_cny as {{ sfa.type_amount() }}) as stage_weighted_cny,
        cast(aggregated.won_so_far_cny + aggregated.historical_open_cny as {{ sfa.type_amount() }}) as historical_cny,
        cast(aggregated.won_so_far_cny + aggregated.commit_open_cny as {{ sfa.type_amount() }}) as rep_commit_cny
        {% if with_manager %},
        cast(coalesce(
            submissions.manager_adjusted_amount,
            aggregated.won_so_far_cny + aggregated.manager_weighted_open_cny
        ) as {{ sfa.type_amount() }}) as manager_adjusted_cny,
        submissions.manager_adjusted_amount is not null as has_manager_override
        {% endif %}
    from aggregated
    {% if with_manager %}
    left join submissions
        on aggregated.owner_id is not distinct from submissions.owner_id
        and aggregated.period_month = submissions.period_month
    {% endif %}

)

select * from final

{% endmacro %}
