-- Won revenue is one number, however it is cut: by month, in the headline summary, by rep and by
-- team must all agree to the cent. Returns a row when they do not.

with

by_month as (
    select coalesce(sum(won_revenue_cny), 0) as amount from {{ ref('won_revenue_by_month') }}
),

summary as (
    select coalesce(sum(won_revenue_cny), 0) as amount from {{ ref('sales_kpi_summary') }}
),

by_rep as (
    select coalesce(sum(won_amount_cny), 0) as amount from {{ ref('pipeline_kpis_by_rep') }}
),

by_team as (
    select coalesce(sum(won_amount_cny), 0) as amount from {{ ref('pipeline_kpis_by_team') }}
),

opportunities as (
    select coalesce(sum(case when is_won then amount_cny else 0 end), 0) as amount from {{ ref('opportunities') }}
)

select
    by_month.amount as by_month,
    summary.amount as summary,
    by_rep.amount as by_rep,
    by_team.amount as by_team,
    opportunities.amount as opportunities
from by_month
cross join summary
cross join by_rep
cross join by_team
cross join opportunities
where by_month.amount <> summary.amount
    or by_month.amount <> by_rep.amount
    or by_month.amount <> by_team.amount
    or by_month.amount <> opportunities.amount
