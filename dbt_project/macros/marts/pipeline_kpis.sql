{#-
    Pipeline KPIs per month at the grain given by `keys` (columns of int_opportunities_enriched that
    describe the owner: rep, team, region). Shared by pipeline_kpis_by_rep and pipeline_kpis_by_team
    so that both grains use one definition. A month is the Asia/Shanghai month of `close_date`
    (actual close for closed deals, expected close for open ones).
-#}
{% macro pipeline_kpis(keys) %}

with

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}
    where close_month is not null

),

reps as (

    select * from {{ ref('int_crm__reps') }}

),

quota_months as (

    select
        reps.user_id as owner_id,
        reps.user_name as owner_name,
        reps.team_id,
        reps.team_name,
        reps.region_id,
        reps.region_name,
        quotas.period_month,
        quotas.quota_amount
    from {{ ref('int_crm__quota_months') }} as quotas
    inner join reps
        on quotas.user_id = reps.user_id

),

deal_facts as (

    select
        {% for key in keys %}{{ key }},
        {% endfor %}close_month as period_month,
        {{ sfa.count_if('is_won') }} as won_deals,
        {{ sfa.count_if('is_lost') }} as lost_deals,
        {{ sfa.count_if('is_open') }} as open_deals_due,
        sum(case when is_won then amount_cny else 0 end) as won_amount_cny,
        sum(case when is_lost then amount_cny else 0 end) as lost_amount_cny,
        sum(case when is_open then amount_cny else 0 end) as open_pipeline_due_cny,
        sum(case when is_open then amount_cny * stage_probability else 0 end) as weighted_pipeline_due_cny,
        {{ sfa.median('case when is_won then sales_cycle_days end') }} as median_sales_cycle_days,
        {{ sfa.mean('case when is_won then sales_cycle_days end') }} as mean_sales_cycle_days,
        sum(case when is_won then sales_cycle_days end) as won_cycle_days
    from opportunities
    group by {% for key in keys %}{{ key }}, {% endfor %}close_month

),

quota_facts as (

    select
        {% for key in keys %}{{ key }},
        {% endfor %}period_month,
        sum(quota_amount) as quota_cny
    from quota_months
    group by {% for key in keys %}{{ key }}, {% endfor %}period_month

),

periods as (

    select {% for key in keys %}{{ key }}, {% endfor %}period_month from deal_facts
    union
    select {% for key in keys %}{{ key }}, {% endfor %}period_month from quota_facts

),

combined as (

    select
        {% for key in keys %}periods.{{ key }},
        {% endfor %}periods.period_month,
        coalesce(deal_facts.won_deals, 0) as won_deals,
        coalesce(deal_facts.lost_deals, 0) as lost_deals,
        coalesce(deal_facts.open_deals_due, 0) as open_deals_due,
        cast(coalesce(deal_facts.won_amount_cny, 0) as {{ sfa.type_amount() }}) as won_amount_cny,
        cast(coalesce(deal_facts.lost_amount_cny, 0) as {{ sfa.type_amount() }}) as lost_amount_cny,
        cast(coalesce(deal_facts.open_pipeline_due_cny, 0) as {{ sfa.type_amount() }}) as open_pipeline_due_cny,
        cast(coalesce(deal_facts.weighted_pipeline_due_cny, 0) as {{ sfa.type_amount() }}) as weighted_pipeline_due_cny,
        deal_facts.median_sales_cycle_days,
        deal_facts.mean_sales_cycle_days,
        deal_facts.won_cycle_days,
        cast(quota_facts.quota_cny as {{ sfa.type_amount() }}) as quota_cny
    from periods
    left join deal_facts
        on {% for key in keys %}periods.{{ key }} is not distinct from deal_facts.{{ key }} and {% endfor %}periods.period_month = deal_facts.period_month
    left join quota_facts
        on {% for key in keys %}periods.{{ key }} is not distinct from quota_facts.{{ key }} and {% endfor %}periods.period_month = quota_facts.period_month

),

rates as (

    select
        combined.*,
        {{ sfa.ratio('won_deals', 'won_deals + lost_deals', 4) }} as win_rate_by_count,
        {{ sfa.ratio('won_amount_cny', 'won_amount_cny + lost_amount_cny', 4) }} as win_rate_by_value,
        {{ sfa.divide_amount('won_amount_cny', 'won_deals') }} as avg_won_deal_size_cny,
        case when quota_cny is not null
            then cast(case when quota_cny > won_amount_cny then quota_cny - won_amount_cny else 0 end as {{ sfa.type_amount() }})
        end as remaining_quota_cny,
        {{ sfa.ratio('won_amount_cny', 'quota_cny', 4) }} as quota_attainment
    from combined

),

final as (

    select
        rates.*,
        {{ sfa.ratio('open_pipeline_due_cny', 'remaining_quota_cny', 2) }} as pipeline_coverage,
        case
            when remaining_quota_cny is null or remaining_quota_cny = 0 then null
            when open_pipeline_due_cny < {{ var('pipeline_coverage_healthy_min') }} * remaining_quota_cny then 'under'
            when open_pipeline_due_cny > {{ var('pipeline_coverage_healthy_max') }} * remaining_quota_cny then 'over'
            else 'healthy'
        end as pipeline_coverage_status,
        {{ sfa.ratio('open_deals_due * win_rate_by_count * avg_won_deal_size_cny * won_deals', 'won_cycle_days', 2, 6) }}
            as sales_velocity_cny_per_day
    from rates

)

select * from final

{% endmacro %}
