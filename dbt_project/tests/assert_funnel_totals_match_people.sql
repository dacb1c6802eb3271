-- Every person is counted once: the channel funnel's leads add up to distinct_people, and so do
-- the cohort funnel's. Returns a row when either differs.

with

people as (
    select distinct_people as total from {{ ref('sales_kpi_summary') }}
),

by_channel as (
    select coalesce(sum(leads), 0) as total from {{ ref('lead_funnel_by_channel') }}
),

by_cohort as (
    select coalesce(sum(leads), 0) as total from {{ ref('lead_funnel') }}
)

select people.total as people, by_channel.total as by_channel, by_cohort.total as by_cohort
from people
cross join by_channel
cross join by_cohort
where people.total <> by_channel.total or people.total <> by_cohort.total
