with

reps as (

    select * from {{ ref('int_crm__reps') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}
    where not is_deleted

),

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

pipeline as (

    select * from {{ ref('pipeline_kpis_by_rep') }}

),

activity_facts as (

    select
        owner_id,
        {{ sfa.month_start('activity_at') }} as period_month,
        count(*) as activities,
        {{ sfa.count_if("activity_type = 'call'") }} as calls,
        {{ sfa.count_if("activity_type = 'visit'") }} as visits,
        {{ sfa.count_if("activity_type = 'email'") }} as emails,
        {{ sfa.count_if("activity_type = 'meeting'") }} as meetings
    from activities
    group by 1, 2

),

lead_facts as (

    select
        owner_id,
        cohort_month as period_month,
        count(*) as leads_handled,
        {{ sfa.count_if('is_converted') }} as leads_converted
    from leads
    group by 1, 2

),

periods as (

    select owner_id, period_month from activity_facts
    union
    select owner_id, period_month from lead_facts
    union
    select owner_id, period_month from pipeline

),

final as (

    select
        periods.owner_id,
        reps.user_name as owner_name,
        reps.team_id,
        reps.team_name,
        reps.region_name,
        periods.period_month,
        coalesce(activity_facts.activities, 0) as activities,
        coalesce(activity_facts.calls, 0) as calls,
        coalesce(activity_facts.visits, 0) as visits,
        coalesce(activity_facts.emails, 0) as emails,
        coalesce(activity_facts.meetings, 0) as meetings,
        coalesce(lead_facts.leads_handled, 0) as leads_handled,
        coalesce(lead_facts.leads_converted, 0) as leads_converted,
        {{ sfa.ratio('lead_facts.leads_converted', 'lead_facts.leads_handled', 4) }} as lead_conversion_rate,
        coalesce(pipeline.won_deals, 0) as won_deals,
        coalesce(pipeline.won_amount_cny, 0) as won_amount_cny,
        pipeline.quota_cny,
        pipeline.quota_attainment
    from periods
    left join reps
        on periods.owner_id = reps.user_id
    left join activity_facts
        on periods.owner_id is not distinct from activity_facts.owner_id
        and periods.period_month = activity_facts.period_month
    left join lead_facts
        on periods.owner_id is not distinct from lead_facts.owner_id
        and periods.period_month = lead_facts.period_month
    left join pipeline
        on periods.owner_id is not distinct from pipeline.owner_id
        and periods.period_month = pipeline.period_month
    where periods.period_month is not null

)

select * from final
