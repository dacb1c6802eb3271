-- Each stage change opens a "spell" in `to_stage` that lasts until the opportunity's next change
-- (or, for the current stage, until today for open deals). Days in stage are whole calendar days.
-- Key-incremental on opportunity_id (macros/incremental_keys.sql): a run rebuilds every spell of
-- the opportunities that got a stage change extracted since the last run (new, edited, tombstoned,
-- or moved from another opportunity: that one too), whose enriched row was rebuilt (owner, team,
-- status, exchange rate), whose current open spell's days in stage moved with the as-of date, and,
-- when a stage change was quarantined or released since the last run, whose set of changes differs
-- from the one built. Opportunities left with no current change or no enriched row are deleted.

{%- set quarantine_unchanged = sfa.quarantine_unchanged(['crm_opportunity_stage_changes']) %}
{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    post_hook=[
        "{{ sfa.delete_keys_not_in('opportunity_id', '(select changes.opportunity_id from ' ~ ref('stg_crm__opportunity_stage_changes') ~ ' as changes inner join ' ~ ref('int_opportunities_enriched') ~ ' as opportunities on changes.opportunity_id = opportunities.opportunity_id where not changes.is_deleted)') }}",
        "{{ sfa.remember_input_fingerprints(['crm_opportunity_stage_changes']) }}",
    ],
) }}

with

{%- if is_incremental() %}
{%- if not quarantine_unchanged %}

current_changes as (

    select stage_change_id, opportunity_id
    from {{ ref('stg_crm__opportunity_stage_changes') }}
    where not is_deleted

),
{%- endif %}

changed_changes as (

    select changed.stage_change_id, changed.opportunity_id
    from {{ ref('stg_crm__opportunity_stage_changes') }} as changed
    where changed.extracted_at >= {{ sfa.built_watermark('extracted_at') }}

),

affected_opportunities as (

    select opportunity_id from changed_changes

    union

    {#- A change moved to another opportunity (or tombstoned) leaves its old one. #}
    select built.opportunity_id
    from {{ this }} as built
    inner join changed_changes
        on built.stage_change_id = changed_changes.stage_change_id

    union

    select rebuilt.opportunity_id
    from {{ ref('int_opportunities_enriched') }} as rebuilt
    where rebuilt.refreshed_at >= {{ sfa.built_watermark('refreshed_at') }}

    union

    {#- The one clock-dependent column: an open deal's current spell grows with the as-of date. #}
    select built.opportunity_id
    from {{ this }} as built
    where built.is_current_stage
        and built.is_open
        and {{ sfa.differs('built.days_in_stage', sfa.days_between('built.changed_at', sfa.as_of_date())) }}
    {%- if not quarantine_unchanged %}

    union

    {#- Changes quarantined since the last run are gone from staging, released ones are back. #}
    select stale.opportunity_id
    from (
        select built.opportunity_id, built.stage_change_id from {{ this }} as built
        except
        select current_changes.opportunity_id, current_changes.stage_change_id from current_changes
    ) as stale

    union

    {{ sfa.keys_with_unbuilt_versions('current_changes', 'opportunity_id', 'stage_change_id') }}
    {%- endif %}

),

{%- endif %}

changes as (

    select * from {{ ref('stg_crm__opportunity_stage_changes') }}
    where not is_deleted
    {%- if is_incremental() %}
        and opportunity_id in (select opportunity_id from affected_opportunities)
    {%- endif %}

),

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

sequenced as (

    select
        changes.*,
        row_number() over (
            partition by changes.opportunity_id
            order by changes.changed_at, changes.stage_change_id
        ) as change_sequence,
        lead(changes.changed_at) over (
            partition by changes.opportunity_id
            order by changes.changed_at, changes.stage_change_id
        ) as next_changed_at
    from changes

),

final as (

    select
        sequenced.stage_change_id,
        sequenced.opportunity_id,
        sequenced.change_sequence,
        sequenced.from_stage,
        sequenced.to_stage,
        sequenced.changed_at,
        sequenced.next_changed_at,
        sequenced.next_changed_at is null as is_current_stage,
        case
            when sequenced.next_changed_at is not null
                then {{ sfa.days_between('sequenced.changed_at', 'sequenced.next_changed_at') }}
            when opportunities.is_open
                then {{ sfa.days_between('sequenced.changed_at', sfa.as_of_date()) }}
        end as days_in_stage,
        sequenced.amount as amount_at_change,
        {{ sfa.to_reporting_currency('sequenced.amount', 'opportunities.rate_to_cny') }} as amount_cny_at_change,
        sequenced.close_date as close_date_at_change,
        sequenced.forecast_category as forecast_category_at_change,
        opportunities.owner_id,
        opportunities.team_name,
        opportunities.is_open,
        opportunities.is_won,
        opportunities.is_lost,
        sequenced.extracted_at,
        {{ sfa.refreshed_at() }} as refreshed_at
    from sequenced
    inner join opportunities
        on sequenced.opportunity_id = opportunities.opportunity_id

)

select * from final
