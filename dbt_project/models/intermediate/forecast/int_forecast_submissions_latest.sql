-- The latest forecast submission of each rep for each month; the manager's adjusted amount is
-- the manager-adjusted model's override when present.

with

submissions as (

    select * from {{ ref('stg_crm__forecast_submissions') }}
    where not is_deleted
        and period_month is not null

),

ranked as (

    select
        submissions.*,
        row_number() over (
            partition by owner_id, period_month
            order by submitted_at desc, submission_id desc
        ) as submission_rank
    from submissions

),

final as (

    select
        owner_id,
        period_month,
        submitted_at,
        commit_amount,
        best_case_amount,
        manager_adjusted_amount,
        manager_id
    from ranked
    where submission_rank = 1

)

select * from final
