{%- set cutoffs = var('lead_grade_cutoffs') -%}

with

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

engagement as (

    select * from {{ ref('int_lead_engagement') }}

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
        round(cast(least(coalesce(engagement.decayed_points, 0), {{ var('lead_score_behaviour_max') }}) as numeric(18, 6)), 1)
            as behaviour_score,
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
        end as lead_grade
    from scored

)

select * from final
