-- Key-incremental on opportunity_id (macros/incremental_keys.sql): a run recomputes the
-- opportunities int_opportunities_enriched refreshed since this table's last run, those whose
-- stage-change count or latest change differ from the spells (rebuilt every run), and those whose
-- days since the last stage change moved with the as-of date; opportunities gone from
-- int_opportunities_enriched are deleted.

{%- set enriched = ref('int_opportunities_enriched') %}
{%- set last_stage_change_at = 'coalesce(stage_activity.last_stage_change_at, opportunities.stage_changed_at, opportunities.created_at)' %}
{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    post_hook="{{ sfa.delete_keys_not_in('opportunity_id', ref('int_opportunities_enriched')) }}",
) }}

with

stage_activity as (

    select
        opportunity_id,
        count(*) as stage_change_count,
        max(changed_at) as last_stage_change_at
    from {{ ref('int_opportunity_stage_spells') }}
    group by 1

),

{%- if is_incremental() %}

affected_opportunities as (

    select opportunity_id
    from {{ enriched }}
    where refreshed_at > {{ sfa.built_watermark('refreshed_at') }}

    union

    select built.opportunity_id
    from {{ this }} as built
    left join stage_activity
        on built.opportunity_id = stage_activity.opportunity_id
    where {{ sfa.differs('built.stage_change_count', 'coalesce(stage_activity.stage_change_count, 0)') }}
        or {{ sfa.differs('built.last_stage_change_at',
                          'coalesce(stage_activity.last_stage_change_at, built.stage_changed_at, built.created_at)') }}
        or {{ sfa.differs('built.days_since_stage_change',
                          sfa.days_between('built.last_stage_change_at', sfa.as_of_date())) }}

),

{%- endif %}

opportunities as (

    select * from {{ enriched }}
    {%- if is_incremental() %}
    where {{ sfa.key_in(enriched, 'opportunity_id', 'select opportunity_id from affected_opportunities') }}
    {%- endif %}

),

final as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_id,
        opportunities.lead_id,
        opportunities.owner_id,
        opportunities.owner_name,
        opportunities.team_id,
        opportunities.team_name,
        opportunities.region_id,
        opportunities.region_name,
        opportunities.product_line,
        opportunities.sales_stage,
        opportunities.sales_status,
        opportunities.forecast_category,
        opportunities.loss_reason,
        opportunities.stage_order,
        opportunities.stage_probability,
        opportunities.crm_probability,
        opportunities.amount,
        opportunities.currency,
        opportunities.rate_to_cny,
        opportunities.amount_cny,
        opportunities.created_at,
        opportunities.created_date,
        opportunities.close_date,
        opportunities.crm_close_date,
        opportunities.close_month,
        opportunities.stage_changed_at,
        opportunities.last_followed_at,
        opportunities.modified_at,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.is_open,
        opportunities.sales_cycle_days,
        cast(opportunities.amount_cny * opportunities.stage_probability as {{ sfa.type_amount() }}) as weighted_amount_cny,
        coalesce(stage_activity.stage_change_count, 0) as stage_change_count,
        {{ last_stage_change_at }} as last_stage_change_at,
        {{ sfa.days_between(last_stage_change_at, sfa.as_of_date()) }} as days_since_stage_change,
        opportunities.is_open
            and {{ sfa.days_between(last_stage_change_at, sfa.as_of_date()) }} >= {{ var('stalled_opportunity_days') }}
            as is_stalled,
        {{ sfa.refreshed_at() }} as refreshed_at
    from opportunities
    left join stage_activity
        on opportunities.opportunity_id = stage_activity.opportunity_id

)

select * from final
