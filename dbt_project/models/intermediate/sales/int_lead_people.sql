-- One row per person: an identity cluster of current leads (`person_id` from quality.identity_map).
-- The person's channel, campaign, owner and cohort are those of the earliest-created lead; the person
-- reaches a funnel step when any of their leads reached it.
-- Key-incremental on person_id (macros/incremental_keys.sql): a run rebuilds the people with a lead
-- refreshed in int_leads_enriched since this table's last run, or whose lead count changed (a lead
-- deleted or moved to another person); people with no current lead left are deleted.
-- A person with no refreshed lead can only have lost leads, so when the lead counts of all such
-- people still add up to their current leads, none changed and the count diff is skipped.

{%- set enriched = ref('int_leads_enriched') %}
{%- set refreshed_people = '(select person_id from ' ~ enriched ~ ' where refreshed_at > ' ~ sfa.built_watermark('refreshed_at') ~ ')' %}
{%- set counts_may_differ = is_incremental() and not sfa.query_is_true(
    '(select coalesce(sum(lead_count), 0) from ' ~ this ~ ' where person_id not in ' ~ refreshed_people ~ ')'
    ~ ' = (select count(*) from ' ~ enriched ~ ' where person_id not in ' ~ refreshed_people ~ ')') %}

{#- After the merge, people left with no lead show as lead counts adding up to more than the leads. #}
{{ config(
    materialized='incremental',
    unique_key='person_id',
    incremental_strategy='delete+insert',
    post_hook="{% if not sfa.query_is_true('(select coalesce(sum(lead_count), 0) from ' ~ this ~ ') = (select count(*) from ' ~ ref('int_leads_enriched') ~ ')') %}{{ sfa.delete_keys_not_in('person_id', ref('int_leads_enriched')) }}{% else %}select 1{% endif %}",
) }}

with

{%- if is_incremental() %}

affected_people as (

    {{ refreshed_people }}
    {%- if counts_may_differ %}

    union

    select coalesce(built.person_id, current_people.person_id)
    from {{ this }} as built
    full outer join (
        select person_id, count(*) as lead_count
        from {{ enriched }}
        group by 1
    ) as current_people
        on built.person_id = current_people.person_id
    where {{ sfa.differs('built.lead_count', 'current_people.lead_count') }}
    {%- endif %}

),

{%- endif %}

leads as (

    select * from {{ ref('int_leads_enriched') }}
    {%- if is_incremental() %}
    where {{ sfa.key_in(ref('int_leads_enriched'), 'person_id', 'select person_id from affected_people') }}
    {%- endif %}

),

ranked as (

    select
        leads.*,
        row_number() over (partition by person_id order by created_at, lead_id) as lead_rank
    from leads

),

first_leads as (

    select * from ranked
    where lead_rank = 1

),

steps as (

    select
        person_id,
        count(*) as lead_count,
        min(created_at) as first_lead_at,
        min(mql_at) as mql_at,
        min(sql_at) as sql_at,
        min(opportunity_created_at) as opportunity_created_at,
        min(case when is_won then opportunity_close_date end) as won_date,
        {{ dbt.bool_or('is_mql') }} as is_mql,
        {{ dbt.bool_or('is_sql') }} as is_sql,
        {{ dbt.bool_or('is_converted') }} as is_converted,
        {{ dbt.bool_or('is_won') }} as is_won,
        sum(case when is_won then opportunity_amount_cny else 0 end) as won_amount_cny
    from leads
    group by 1

),

final as (

    select
        steps.person_id,
        first_leads.lead_id as first_lead_id,
        first_leads.lead_name,
        first_leads.company,
        first_leads.channel,
        first_leads.campaign_id,
        first_leads.owner_id,
        first_leads.owner_name,
        first_leads.team_id,
        first_leads.team_name,
        first_leads.cohort_month,
        steps.lead_count,
        steps.first_lead_at,
        steps.mql_at,
        steps.sql_at,
        steps.opportunity_created_at,
        steps.won_date,
        steps.is_mql,
        steps.is_sql,
        steps.is_converted,
        steps.is_won,
        steps.won_amount_cny,
        {{ sfa.refreshed_at() }} as refreshed_at
    from steps
    inner join first_leads
        on steps.person_id = first_leads.person_id

)

select * from final
