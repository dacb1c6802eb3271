-- Engagement of each current lead: marketing events matched by `crm_lead_id` (else by e-mail),
-- each worth its seed points decayed by half every var lead_score_half_life_days days.
-- A view: lead_scores, its only reader, aggregates it once per run (its `engagement` CTE, read
-- twice, is materialized by DuckDB and Postgres). As a table it was written and key-tested in
-- every run, decay moving every row: at 1M leads ~0.5 CPU s for 835k rows nobody else reads.

{{ config(materialized='view') }}

with

events as (

    select * from {{ ref('stg_marketing__engagement_events') }}
    where not is_deleted
        and occurred_at <= {{ sfa.as_of_date() }}

),

leads as (

    select lead_id, lower(email) as email from {{ ref('stg_crm__leads') }}
    where not is_deleted

),

points as (

    select * from {{ ref('engagement_event_points') }}

),

matched as (

    select
        coalesce(events.crm_lead_id, leads_by_email.lead_id) as lead_id,
        events.event_type,
        events.occurred_at
    from events
    left join leads as leads_by_email
        on events.crm_lead_id is null
        and lower(events.email) = leads_by_email.email

),

final as (

    select
        matched.lead_id,
        count(*) as engagement_events,
        max(matched.occurred_at) as last_engaged_at,
        sum(
            points.points * power(
                0.5,
                cast({{ sfa.days_between('matched.occurred_at', sfa.as_of_date()) }} as {{ sfa.type_double() }})
                / {{ var('lead_score_half_life_days') }}
            )
        ) as decayed_points
    from matched
    inner join points
        on matched.event_type = points.event_type
    where matched.lead_id is not null
    group by 1

)

select * from final
