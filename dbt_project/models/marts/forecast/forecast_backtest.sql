-- For each past month and rep: what each of the four forecast models said at the start of the
-- month, and what was actually won in it.

with

predictions as (

    select * from {{ ref('int_forecast_opportunity_predictions') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

submissions as (

    select * from {{ ref('int_forecast_submissions_latest') }}

),

reps as (

    select * from {{ ref('int_crm__reps') }}

),

predicted as (

    select
        owner_id,
        period_month,
        count(*) as open_deals_at_start,
        sum(amount_cny_at_start) as open_pipeline_at_start_cny,
        sum(stage_weighted_cny) as stage_weighted_cny,
        sum(historical_cny) as historical_cny,
        sum(rep_commit_cny) as rep_commit_cny,
        sum(manager_weighted_cny) as manager_weighted_cny
    from predictions
    group by 1, 2

),

actuals as (

    select
        owner_id,
        close_month as period_month,
        sum(amount_cny) as actual_won_cny,
        count(*) as actual_won_deals
    from opportunities
    where is_won
    group by 1, 2

),

keys as (

    select owner_id, period_month from predicted
    union
    select owner_id, period_month from actuals
    union
    select owner_id, period_month from submissions

),

combined as (

    select
        keys.owner_id,
        reps.user_name as owner_name,
        reps.team_id,
        reps.team_name,
        keys.period_month,
        coalesce(predicted.open_deals_at_start, 0) as open_deals_at_start,
        cast(coalesce(predicted.open_pipeline_at_start_cny, 0) as {{ sfa.type_amount() }}) as open_pipeline_at_start_cny,
        cast(coalesce(predicted.stage_weighted_cny, 0) as {{ sfa.type_amount() }}) as stage_weighted_cny,
        cast(coalesce(predicted.historical_cny, 0) as {{ sfa.type_amount() }}) as historical_cny,
        cast(coalesce(predicted.rep_commit_cny, 0) as {{ sfa.type_amount() }}) as rep_commit_cny,
        cast(coalesce(submissions.manager_adjusted_amount, predicted.manager_weighted_cny, 0) as {{ sfa.type_amount() }})
            as manager_adjusted_cny,
        submissions.manager_adjusted_amount is not null as has_manager_override,
        cast(coalesce(actuals.actual_won_cny, 0) as {{ sfa.type_amount() }}) as actual_won_cny,
        coalesce(actuals.actual_won_deals, 0) as actual_won_deals
    from keys
    left join predicted
        on keys.owner_id is not distinct from predicted.owner_id and keys.period_month = predicted.period_month
    left join actuals
        on keys.owner_id is not distinct from actuals.owner_id and keys.period_month = actuals.period_month
    left join submissions
        on keys.owner_id is not distinct from submissions.owner_id and keys.period_month = submissions.period_month
    left join reps
        on keys.owner_id = reps.user_id
    where {{ dbt.dateadd('month', 1, 'keys.period_month') }} <= {{ sfa.as_of_date() }}

),

final as (

    select
        combined.*,
        {% for model in ['stage_weighted', 'historical', 'rep_commit', 'manager_adjusted'] %}
        {{ model }}_cny - actual_won_cny as {{ model }}_error_cny{{ ',' if not loop.last }}
        {% endfor %}
    from combined

)

select * from final
