-- Current opportunities (tombstones removed) with the amount in the reporting currency, the stage's
-- order and default probability, open/won/lost flags and the owner's team and region.
-- A closed deal the CRM holds no close date for (the quality gate quarantines those; this keeps the
-- marts consistent when it is off or the rule only warns) closes on the day it entered its closing
-- stage, else the day it was last modified: every won deal then falls in some month, so won revenue
-- by month adds up to won revenue.
-- Key-incremental on opportunity_id (macros/incremental_keys.sql): a run rebuilds the opportunities
-- with a version extracted since the table's newest `extracted_at` (new, edited, tombstoned), those
-- back from quarantine (only looked for when the quarantine fingerprint changed) and those whose
-- owner's name, team or region differ from what the table holds; opportunities gone from staging
-- are deleted (only tombstones need looking at while none was quarantined since the last run).
-- The rebuilt rows get a new `refreshed_at`, which the key-incremental models downstream read.

{%- set staging = ref('stg_crm__opportunities') %}
{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    post_hook=[
        "{{ sfa.delete_keys_not_in('opportunity_id', '(select opportunity_id from ' ~ ref('stg_crm__opportunities') ~ ' where not is_deleted)', quarantine_streams=['crm_opportunities'], tombstones='(select opportunity_id from ' ~ ref('stg_crm__opportunities') ~ ' where is_deleted)') }}",
        "{{ sfa.remember_input_fingerprints(['crm_opportunities']) }}",
    ],
) }}

with

reps as (

    select * from {{ ref('int_crm__reps') }}

),

{%- if is_incremental() %}

affected_opportunities as (

    {{ sfa.keys_changed_since_built(staging, 'opportunity_id', 'extracted_at',
                                    include_unseen=not sfa.quarantine_unchanged(['crm_opportunities'])) }}

    union

    {#- The columns a row takes from its owner (int_crm__reps is rebuilt every run). #}
    select built.opportunity_id
    from {{ this }} as built
    left join reps
        on built.owner_id = reps.user_id
    where {{ sfa.differs('built.owner_name', 'reps.user_name') }}
        or {{ sfa.differs('built.team_id', 'reps.team_id') }}
        or {{ sfa.differs('built.team_name', 'reps.team_name') }}
        or {{ sfa.differs('built.region_id', 'reps.region_id') }}
        or {{ sfa.differs('built.region_name', 'reps.region_name') }}

),

{%- endif %}

opportunities as (

    select * from {{ staging }}
    where not is_deleted
    {%- if is_incremental() %}
        and opportunity_id in (select opportunity_id from affected_opportunities)
    {%- endif %}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

stages as (

    select * from {{ ref('opportunity_stages') }}

),

{%- set is_closed = "coalesce(stages.is_closed, opportunities.sales_status in ('won', 'lost'))" %}
{%- set close_date -%}
    case
        when {{ is_closed }}
            then coalesce(opportunities.close_date, cast(opportunities.stage_changed_at as date), cast(opportunities.modified_at as date))
        else opportunities.close_date
    end
{%- endset %}

final as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_id,
        opportunities.lead_id,
        opportunities.owner_id,
        reps.user_name as owner_name,
        reps.team_id,
        reps.team_name,
        reps.region_id,
        reps.region_name,
        opportunities.product_line,
        opportunities.sales_stage,
        opportunities.sales_status,
        opportunities.forecast_category,
        opportunities.loss_reason,
        stages.stage_order,
        stages.probability as stage_probability,
        opportunities.probability as crm_probability,
        opportunities.amount,
        opportunities.currency,
        fx_rates.rate_to_cny,
        {{ sfa.to_reporting_currency('opportunities.amount', 'fx_rates.rate_to_cny') }} as amount_cny,
        opportunities.created_at,
        cast(opportunities.created_at as date) as created_date,
        {{ close_date }} as close_date,
        opportunities.close_date as crm_close_date,
        {{ sfa.month_start(close_date) }} as close_month,
        opportunities.stage_changed_at,
        opportunities.last_followed_at,
        opportunities.modified_at,
        coalesce(stages.is_won, opportunities.sales_status = 'won') as is_won,
        coalesce(stages.is_closed and not stages.is_won, opportunities.sales_status = 'lost') as is_lost,
        coalesce(not stages.is_closed, opportunities.sales_status = 'in_progress') as is_open,
        case
            when {{ is_closed }}
                then {{ sfa.days_between('opportunities.created_at', close_date) }}
        end as sales_cycle_days,
        opportunities.extracted_at,
        {{ sfa.refreshed_at() }} as refreshed_at
    from opportunities
    left join fx_rates
        on opportunities.currency = fx_rates.currency
    left join stages
        on opportunities.sales_stage = stages.stage
    left join reps
        on opportunities.owner_id = reps.user_id

)

select * from final
