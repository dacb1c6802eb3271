-- A view: row-level arithmetic over int_leads_enriched (key-incremental) that moves with the as-of
-- date, so rewriting a million rows every run would buy nothing.
{{ config(materialized='view') }}

with

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

timed as (

    select
        leads.*,
        coalesce(leads.assigned_at, leads.created_at) as sla_start_at,
        {{ dbt.dateadd('day', var('lead_follow_up_sla_days'), 'coalesce(leads.assigned_at, leads.created_at)') }} as sla_due_at
    from leads

),

final as (

    select
        lead_id,
        person_id,
        owner_id,
        owner_name,
        team_id,
        team_name,
        channel,
        campaign_id,
        leads_pool_id,
        biz_status,
        created_at,
        cohort_month,
        assigned_at,
        first_follow_up_at,
        activity_count,
        {{ sfa.ratio(dbt.datediff('created_at', 'assigned_at', 'second'), 3600, 2, small=true) }} as hours_to_assign,
        {{ sfa.ratio(dbt.datediff('sla_start_at', 'first_follow_up_at', 'second'), 3600, 2, small=true) }} as hours_to_first_follow_up,
        assigned_at is not null
            and {{ dbt.datediff('created_at', 'assigned_at', 'second') }} <= {{ var('lead_assign_sla_hours') }} * 3600
            as is_assigned_within_sla,
        first_follow_up_at is not null and first_follow_up_at <= sla_due_at as is_followed_up_within_sla,
        sla_due_at,
        sla_due_at < {{ sfa.as_of_date() }} as is_sla_window_elapsed,
        (first_follow_up_at is null and sla_due_at < {{ sfa.as_of_date() }})
            or first_follow_up_at > sla_due_at as is_return_to_pool,
        refreshed_at
    from timed

)

select * from final
