-- One narrow row per team, month and core KPI, with an alert band from the KPI's own history:
-- the trailing mean +/- var kpi_alert_band_stddevs sample standard deviations over the previous
-- var kpi_alert_trailing_periods months of the same team (the current month excluded).

{% set kpis = {
    'won_amount_cny': 'pipeline.won_amount_cny',
    'won_deals': 'pipeline.won_deals',
    'win_rate_by_count': 'pipeline.win_rate_by_count',
    'open_pipeline_due_cny': 'pipeline.open_pipeline_due_cny',
    'quota_attainment': 'pipeline.quota_attainment',
    'new_leads': 'leads.new_leads',
    'follow_up_sla_attainment': 'leads.follow_up_sla_attainment',
} %}

with

pipeline as (

    select * from {{ ref('pipeline_kpis_by_team') }}

),

sla as (

    select * from {{ ref('lead_sla') }}

),

leads as (

    select
        team_id,
        cohort_month as period_month,
        count(*) as new_leads,
        {{ sfa.ratio(sfa.count_if('is_followed_up_within_sla'),
            sfa.count_if('is_sla_window_elapsed'), 4) }} as follow_up_sla_attainment
    from sla
    group by 1, 2

),

keys as (

    select team_id, period_month from pipeline
    union
    select team_id, period_month from leads

),

teams as (

    select distinct team_id, team_name, region_name from {{ ref('int_crm__reps') }}

),

unpivoted as (

    {% for kpi, expr in kpis.items() %}
    select
        keys.team_id,
        keys.period_month,
        '{{ kpi }}' as kpi,
        cast({{ expr }} as {{ sfa.type_double() }}) as kpi_value
    from keys
    left join pipeline
        on keys.team_id is not distinct from pipeline.team_id and keys.period_month = pipeline.period_month
    left join leads
        on keys.team_id is not distinct from leads.team_id and keys.period_month = leads.period_month
    where keys.period_month <= {{ sfa.as_of_date() }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

banded as (

    select
        unpivoted.*,
        avg(kpi_value) over (
            partition by team_id, kpi order by period_month
            rows between {{ var('kpi_alert_trailing_periods') }} preceding and 1 preceding
        ) as trailing_mean,
        stddev_samp(kpi_value) over (
            partition by team_id, kpi order by period_month
            rows between {{ var('kpi_alert_trailing_periods') }} preceding and 1 preceding
        ) as trailing_stddev,
        count(kpi_value) over (
            partition by team_id, kpi order by period_month
            rows between {{ var('kpi_alert_trailing_periods') }} preceding and 1 preceding
        ) as trailing_periods
    from unpivoted

),

final as (

    select
        banded.team_id,
        teams.team_name,
        teams.region_name,
        banded.period_month,
        banded.kpi,
        banded.kpi_value,
        banded.trailing_periods,
        banded.trailing_mean,
        banded.trailing_stddev,
        banded.trailing_mean - {{ var('kpi_alert_band_stddevs') }} * banded.trailing_stddev as alert_band_low,
        banded.trailing_mean + {{ var('kpi_alert_band_stddevs') }} * banded.trailing_stddev as alert_band_high,
        case
            when banded.kpi_value is null or banded.trailing_stddev is null or banded.trailing_periods < 3 then 'no_band'
            when banded.kpi_value < banded.trailing_mean - {{ var('kpi_alert_band_stddevs') }} * banded.trailing_stddev then 'below'
            when banded.kpi_value > banded.trailing_mean + {{ var('kpi_alert_band_stddevs') }} * banded.trailing_stddev then 'above'
            else 'normal'
        end as alert_status
    from banded
    left join teams
        on banded.team_id = teams.team_id

)

select * from final
