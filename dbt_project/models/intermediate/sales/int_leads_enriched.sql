-- Current leads (tombstones removed) with their conversion, first follow-up (earliest activity
-- naming the lead) and the owner's team.
-- Key-incremental on lead_id (macros/incremental_keys.sql): a run rebuilds the leads staging
-- rewrote since the last one (new version, new person, back from quarantine: stg_crm__leads is
-- key-incremental and stamps each with a new refreshed_at), those whose conversion or owner's team
-- differ from what the table holds (a narrow diff of those columns), and those whose follow-ups may
-- have changed: the leads of activity links written, changed or removed since the last run
-- (int_crm__activity_links keeps removed links as rows). Follow-ups are diffed for every lead
-- instead when that is not enough: an activity was quarantined or released since the last run
-- (such links leave without a removed row), the last run is older than the links' retention, or
-- the links table was rebuilt since. Leads gone from staging are deleted (only tombstones need
-- looking at while no lead was quarantined since the last run).

{%- set links = ref('int_crm__activity_links') %}
{%- set links_show_every_change = is_incremental()
    and sfa.quarantine_unchanged(['crm_activities'], name='activity_quarantine')
    and sfa.query_is_true(
        '(select max(refreshed_at) from ' ~ this ~ ') > '
        ~ dbt.dateadd('day', -1 * var('removed_link_retention_days'), sfa.refreshed_at())
        ~ ' and (select min(refreshed_at) from ' ~ links ~ ') < (select max(refreshed_at) from ' ~ this ~ ')') %}

{#- Every lead's follow-ups (diffed against the table when the links cannot show every change), or
    only the affected leads' (after affected_leads, which the links then find). -#}
{%- set follow_ups_sql %}
    select
        related_record_id as lead_id,
        min(activity_at) as first_follow_up_at,
        max(activity_at) as last_activity_at,
        count(*) as activity_count
    from activity_links
    {%- if links_show_every_change %}
    where related_record_id in (select lead_id from affected_leads)
    {%- endif %}
    group by 1
{%- endset %}

{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    post_hook=[
        "{{ sfa.delete_keys_not_in('lead_id', '(select lead_id from ' ~ ref('stg_crm__leads') ~ ' where not is_deleted)', quarantine_streams=['crm_leads'], tombstones='(select lead_id from ' ~ ref('stg_crm__leads') ~ ' where is_deleted)') }}",
        "{{ sfa.remember_input_fingerprints(['crm_leads'], other_quarantines={'activity_quarantine': ['crm_activities']}) }}",
    ],
) }}

with

conversions as (

    select * from {{ ref('int_lead_conversions') }}

),

activity_links as (

    select * from {{ links }}
    where related_api_name = 'LeadsObj'
        and not is_removed

),

{%- if not links_show_every_change %}

follow_ups as ({{ follow_ups_sql }}),

{%- endif %}

reps as (

    select * from {{ ref('int_crm__reps') }}

),

{%- if is_incremental() %}

affected_leads as (

    {{ sfa.keys_changed_since_built(ref('stg_crm__leads'), 'lead_id', 'refreshed_at', include_unseen=false) }}

    union

    {#- One pass over the table: the columns each row takes from an input other than the lead's own
        version (its owner) or its canonical id (both arrive through stg_crm__leads.refreshed_at). #}
    select built.lead_id
    from {{ this }} as built
    left join reps
        on built.owner_id = reps.user_id
    {%- if not links_show_every_change %}
    left join follow_ups
        on built.lead_id = follow_ups.lead_id
    {%- endif %}
    left join conversions
        on built.lead_id = conversions.lead_id
    where {{ sfa.differs('built.owner_name', 'reps.user_name') }}
        or {{ sfa.differs('built.team_id', 'reps.team_id') }}
        or {{ sfa.differs('built.team_name', 'reps.team_name') }}
        or {{ sfa.differs('built.region_name', 'reps.region_name') }}
        {%- if not links_show_every_change %}
        or {{ sfa.differs('built.first_follow_up_at', 'follow_ups.first_follow_up_at') }}
        or {{ sfa.differs('built.last_activity_at', 'follow_ups.last_activity_at') }}
        or {{ sfa.differs('built.activity_count', 'coalesce(follow_ups.activity_count, 0)') }}
        {%- endif %}
        or {{ sfa.differs('built.opportunity_id', 'conversions.opportunity_id') }}
        or {{ sfa.differs('built.opportunity_created_at', 'conversions.opportunity_created_at') }}
        or {{ sfa.differs('built.opportunity_close_date', 'conversions.close_date') }}
        or {{ sfa.differs('built.opportunity_amount_cny', 'conversions.amount_cny') }}
        or {{ sfa.differs('built.is_won', 'coalesce(conversions.is_won, false)') }}
        or {{ sfa.differs('built.is_lost', 'coalesce(conversions.is_lost, false)') }}
    {%- if links_show_every_change %}

    union

    {#- Links written, changed or removed since the last run (removed ones included). #}
    select changed_links.related_record_id
    from {{ links }} as changed_links
    where changed_links.related_api_name = 'LeadsObj'
        and changed_links.refreshed_at >= {{ sfa.built_watermark('refreshed_at') }}
    {%- endif %}

),

{%- endif %}

{%- if links_show_every_change %}

follow_ups as ({{ follow_ups_sql }}),

{%- endif %}

leads as (

    select * from {{ ref('stg_crm__leads') }}
    where not is_deleted
    {%- if is_incremental() %}
        and {{ sfa.key_in(ref('stg_crm__leads'), 'lead_id', 'select lead_id from affected_leads') }}
    {%- endif %}

),

final as (

    select
        leads.lead_id,
        leads.person_id,
        leads.lead_name,
        leads.company,
        leads.job_title,
        leads.industry,
        leads.employee_count,
        leads.channel,
        leads.campaign_id,
        leads.leads_pool_id,
        leads.biz_status,
        leads.leads_stage,
        leads.owner_id,
        reps.user_name as owner_name,
        reps.team_id,
        reps.team_name,
        reps.region_name,
        leads.created_at,
        {{ sfa.month_start('leads.created_at') }} as cohort_month,
        leads.assigned_at,
        follow_ups.first_follow_up_at,
        follow_ups.last_activity_at,
        coalesce(follow_ups.activity_count, 0) as activity_count,
        leads.last_followed_at,
        leads.mql_at,
        leads.sql_at,
        conversions.opportunity_id,
        conversions.opportunity_created_at,
        conversions.close_date as opportunity_close_date,
        conversions.amount_cny as opportunity_amount_cny,
        leads.mql_at is not null as is_mql,
        leads.sql_at is not null as is_sql,
        conversions.opportunity_id is not null as is_converted,
        coalesce(conversions.is_won, false) as is_won,
        coalesce(conversions.is_lost, false) as is_lost,
        leads.back_reason,
        leads.close_reason,
        {{ sfa.refreshed_at() }} as refreshed_at
    from leads
    left join conversions
        on leads.lead_id = conversions.lead_id
    left join follow_ups
        on leads.lead_id = follow_ups.lead_id
    left join reps
        on leads.owner_id = reps.user_id

)

select * from final
