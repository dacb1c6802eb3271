-- A funnel never widens: leads >= MQL >= SQL >= opportunity >= won, per channel and per cohort
-- row. Returns the rows that break it.

with

by_channel as (
    select 'lead_funnel_by_channel' as mart, channel as grain, leads, mql, sql, opportunity, won
    from {{ ref('lead_funnel_by_channel') }}
),

by_cohort as (
    select 'lead_funnel' as mart, channel as grain, leads, mql, sql, opportunity, won
    from {{ ref('lead_funnel') }}
),

all_rows as (
    select * from by_channel
    union all
    select * from by_cohort
)

select *
from all_rows
where not (leads >= mql and mql >= sql and sql >= opportunity and opportunity >= won)
