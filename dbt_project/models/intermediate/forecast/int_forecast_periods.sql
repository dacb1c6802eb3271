-- The months forecasts are made for: every Asia/Shanghai month in which some current opportunity
-- closes or is expected to close.

with

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

final as (

    select distinct close_month as period_month
    from opportunities
    where close_month is not null

)

select * from final
