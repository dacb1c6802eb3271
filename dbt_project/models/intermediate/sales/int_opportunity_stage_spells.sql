-- Each stage change opens a "spell" in `to_stage` that lasts until the opportunity's next change
-- (or, for the current stage, until today for open deals). Days in stage are whole calendar days.
-- Key-incremental on opportunity_id (macros/incremental_keys.sql), several rows per key: a run
-- rebuilds the opportunities holding a stage change extracted again since the table's newest
-- extracted_at (edited, tombstoned, moved away) or now quarantined, those with a current
-- (opportunity, change) pair the table does not hold (new, moved in, back from quarantine, or the
-- opportunity new to int_opportunities_enriched), those refreshed in int_opportunities_enriched
-- since this table's last run (owner, team, status, rate), and those whose current spell's
-- days_in_stage no longer matches the as-of date (an open deal's current spell counts days up to
-- it). Post-hooks drop the opportunities left with no current change or gone from
-- int_opportunities_enriched. A watermark finds the changed changes, not a diff of (change,
-- version) pairs both ways: at a million leads two such set differences plus the hook's cost about
-- as much as the rebuild they were to save.

{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    post_hook=[
        "{{ sfa.delete_keys_not_in('opportunity_id', '(select opportunity_id from ' ~ ref('stg_crm__opportunity_stage_changes') ~ ' where not is_deleted)') }}",
        "{{ sfa.delete_keys_not_in('opportunity_id', ref('int_opportunities_enriched')) }}",
    ],
) }}

with

{%- if is_incremental() %}

{#- Tombstones included. #}
changed_stage_changes as (

    select changed.stage_change_id
    from {{ ref('stg_crm__opportunity_stage_changes') }} as changed
    where changed.extracted_at >= (select max(built.extracted_at) from {{ this }} as built)

),

affected_opportunities as (

    {#- Edited, tombstoned or moved changes, by the opportunity they were built under; where they
        are now (new or moved changes) comes from the pairs not held below. #}
    select built.opportunity_id
    from {{ this }} as built
    where built.stage_change_id in (select stage_change_id from changed_stage_changes)

    union

    select built.opportunity_id
    from {{ this }} as built
    where not ({{ sfa.not_quarantined('crm_opportunity_stage_changes', 'built.stage_change_id') }})

    union

    {#- (opportunity, change) pairs current but not held: new changes, changes moved in, changes
        back from quarantine with no new version, changes of an opportunity this table did not hold. #}
    {{ sfa.keys_with_unbuilt_versions(
        '(select opportunity_id, stage_change_id from ' ~ ref('stg_crm__opportunity_stage_changes') ~ ' where not is_deleted)',
        'opportunity_id', 'stage_change_id') }}

    union

    select refreshed.opportunity_id
    from {{ ref('int_opportunities_enriched') }} as refreshed
    where refreshed.refreshed_at > (select max(built.refreshed_at) from {{ this }} as built)

    union

    {#- Checked row by row rather than against a stored as-of date: also right after a run that
        recomputed only some keys. #}
    select built.opportunity_id
    from {{ this }} as built
    where built.is_current_stage
        and built.is_open
        and {{ sfa.differs('built.days_in_stage', sfa.days_between('built.changed_at', sfa.as_of_date())) }}

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
    {%- if is_incremental() %}
    where opportunity_id in (select opportunity_id from affected_opportunities)
    {%- endif %}

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
