-- Current opportunities (tombstones removed) with the amount in the reporting currency, the stage's
-- order and default probability, open/won/lost flags and the owner's team and region.
-- Key-incremental on opportunity_id (macros/incremental_keys.sql): a run rebuilds the opportunities
-- staging holds a version of newer than this table's newest extracted_at (edits, tombstones) or that
-- this table does not hold (new, back from quarantine), plus those whose owner's name, team or
-- region differ from what the table holds (a narrow diff of those columns); opportunities gone from
-- staging (tombstoned, quarantined) are deleted. The seeds (rates, stages) are not diffed: after
-- changing one, run with --full-refresh.

{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    post_hook="{{ sfa.delete_keys_not_in('opportunity_id', '(select opportunity_id from ' ~ ref('stg_crm__opportunities') ~ ' where not is_deleted)') }}",
) }}

with

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

stages as (

    select * from {{ ref('opportunity_stages') }}

),

reps as (

    select * from {{ ref('int_crm__reps') }}

),

{%- if is_incremental() %}

affected_opportunities as (

    {{ sfa.keys_changed_since_built(ref('stg_crm__opportunities'), 'opportunity_id') }}

    union

    {#- The only columns a row takes from an input other than the opportunity's own version and the
        seeds: its owner's. #}
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

    select * from {{ ref('stg_crm__opportunities') }}
    where not is_deleted
    {%- if is_incremental() %}
        and opportunity_id in (select opportunity_id from affected_opportunities)
    {%- endif %}

),

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
        opportunities.close_date,
        {{ sfa.month_start('opportunities.close_date') }} as close_month,
        opportunities.stage_changed_at,
        opportunities.last_followed_at,
        opportunities.modified_at,
        coalesce(stages.is_won, opportunities.sales_status = 'won') as is_won,
        coalesce(stages.is_closed and not stages.is_won, opportunities.sales_status = 'lost') as is_lost,
        coalesce(not stages.is_closed, opportunities.sales_status = 'in_progress') as is_open,
        case
            when coalesce(stages.is_closed, opportunities.sales_status in ('won', 'lost'))
                then {{ sfa.days_between('opportunities.created_at', 'opportunities.close_date') }}
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
