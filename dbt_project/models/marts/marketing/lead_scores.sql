{%- set cutoffs = var('lead_grade_cutoffs') -%}
-- Key-incremental on lead_id (macros/incremental_keys.sql): a run rescores the leads refreshed in
-- int_leads_enriched since this table's last run and those whose engagement changed (new events, or
-- decay after the as-of date moved); leads no longer current are deleted (only tombstones need
-- looking at while no lead was quarantined since the last run). After changing the scoring seed or
-- vars, run with --full-refresh.

{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    post_hook=[
        "{{ sfa.delete_keys_not_in('lead_id', ref('int_leads_enriched'), quarantine_streams=['crm_leads'], tombstones='(select lead_id from ' ~ ref('stg_crm__leads') ~ ' where is_deleted)') }}",
        "{{ sfa.remember_input_fingerprints(['crm_leads']) }}",
    ],
) }}

with

engagement as (

    select
        lead_id,
        engagement_events,
        last_engaged_at,
        round(cast(least(decayed_points, {{ var('lead_score_behaviour_max') }}) as numeric(18, 6)), 1) as behaviour_score
    from {{ ref('int_lead_engagement') }}

),

{%- if is_incremental() %}

affected_leads as (

    select lead_id
    from {{ ref('int_leads_enriched') }}
    where refreshed_at > {{ sfa.built_watermark('refreshed_at') }}

    union

    select built.lead_id
    from {{ this }} as built
    left join engagement
        on built.lead_id = engagement.lead_id
    where {{ sfa.differs('built.engagement_events', 'coalesce(engagement.engagement_events, 0)') }}
        or {{ sfa.differs('built.last_engaged_at', 'engagement.last_engaged_at') }}
        or {{ sfa.differs('built.behaviour_score', 'coalesce(engagement.behaviour_score, 0)') }}

),

{%- endif %}

leads as (

    select * from {{ ref('int_leads_enriched') }}
    {%- if is_incremental() %}
    where {{ sfa.key_in(ref('int_leads_enriched'), 'lead_id', 'select lead_id from affected_leads') }}
    {%- endif %}

),

rules as (

    select * from {{ ref('lead_scoring_rules') }}

),

industry_points as (

    select leads.lead_id, max(rules.points) as points
    from leads
    inner join rules
        on rules.attribute = 'industry'
        and leads.industry = rules.attribute_value
    group by 1

),

size_points as (

    select leads.lead_id, max(rules.points) as points
    from leads
    inner join rules
        on rules.attribute = 'employee_count_min'
        and leads.employee_count >= {{ sfa.to_int('rules.attribute_value') }}
    group by 1

),

channel_points as (

    select leads.lead_id, max(rules.points) as points
    from leads
    inner join rules
        on rules.attribute = 'channel'
        and leads.channel = rules.attribute_value
    group by 1

),

title_points as (

    select leads.lead_id, max(rules.points) as points
    from leads
    inner join rules
        on rules.attribute = 'title_keyword'
        and lower(leads.job_title) like '%' || lower(rules.attribute_value) || '%'
    group by 1

),

scored as (

    select
        leads.lead_id,
        leads.person_id,
        leads.owner_id,
        leads.channel,
        leads.campaign_id,
        leads.cohort_month,
        leads.is_converted,
        leads.is_won,
        coalesce(engagement.engagement_events, 0) as engagement_events,
        engagement.last_engaged_at,
        coalesce(engagement.behaviour_score, 0) as behaviour_score,
        least(
            coalesce(industry_points.points, 0) + coalesce(size_points.points, 0) + coalesce(title_points.points, 0)
            + coalesce(channel_points.points, 0),
            {{ var('lead_score_attribute_max') }}
        ) as attribute_score
    from leads
    left join engagement on leads.lead_id = engagement.lead_id
    left join industry_points on leads.lead_id = industry_points.lead_id
    left join size_points on leads.lead_id = size_points.lead_id
    left join title_points on leads.lead_id = title_points.lead_id
    left join channel_points on leads.lead_id = channel_points.lead_id

),

final as (

    select
        scored.*,
        behaviour_score + attribute_score as lead_score,
        case
            when behaviour_score + attribute_score >= {{ cutoffs['A'] }} then 'A'
            when behaviour_score + attribute_score >= {{ cutoffs['B'] }} then 'B'
            when behaviour_score + attribute_score >= {{ cutoffs['C'] }} then 'C'
            else 'D'
        end as lead_grade,
        {{ sfa.refreshed_at() }} as refreshed_at
    from scored

)

select * from final
