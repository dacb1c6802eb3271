-- Each forecast model's expected won amount (CNY) for every deal that was open and due in a month
-- at that month's start:
--   stage_weighted  amount x the stage's seed probability
--   historical      amount x win rate learned from earlier closed deals of the same stage, age and
--                   size bucket (var forecast_min_history_deals deals needed; else the stage's
--                   learned rate; else the seed probability)
--   rep_commit      amount when the deal's forecast category counts in the rep commit (seed)
--   manager_weight  amount x the manager weight of its forecast category (seed), used by the
--                   manager-adjusted model when no manager adjustment was submitted

with

states as (

    select * from {{ ref('int_opportunity_period_start_states') }}

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

final as (

    select
        states.*,
        {{ sfa.learned_win_rate('states.stage_probability') }} as learned_win_rate,
        cast(states.amount_cny_at_start * states.stage_probability as {{ sfa.type_amount() }}) as stage_weighted_cny,
        cast(states.amount_cny_at_start * {{ sfa.learned_win_rate('states.stage_probability') }} as {{ sfa.type_amount() }}) as historical_cny,
        case when coalesce(category_weights.in_rep_commit, false) then states.amount_cny_at_start else 0 end as rep_commit_cny,
        cast(states.amount_cny_at_start * coalesce(category_weights.manager_weight, 0) as {{ sfa.type_amount() }}) as manager_weighted_cny
    from states
    left join learned
        on states.period_month = learned.period_month
        and states.stage_at_start = learned.stage
        and states.age_bucket = learned.age_bucket
        and states.size_bucket = learned.size_bucket
    left join stage_learned
        on states.period_month = stage_learned.period_month
        and states.stage_at_start = stage_learned.stage
    left join category_weights
        on states.forecast_category_at_start = category_weights.forecast_category

)

select * from final
