{#-
    Canonical ids from `quality.identity_map` (source_contract.md section 5) for one stream's
    records. The quality layer names entities by the stream's table (`crm_leads`) or by a short
    noun (`lead`); both spellings are accepted so that neither side has to rename.
-#}
{% macro identity_for(stream, only_ids=none) -%}
    select
        record_id,
        max(canonical_id) as canonical_id
    from {{ source('quality', 'identity_map') }}
    where {{ sfa._identity_entities(stream) }}
    {%- if only_ids is not none %}
        and record_id in {{ only_ids }}
    {%- endif %}
    group by record_id
{%- endmacro %}

{% macro _identity_entities(stream) -%}
    {%- set aliases = var('identity_entity_aliases')[stream] -%}
    entity in ('{{ stream }}'{% for alias in aliases %}, '{{ alias }}'{% endfor %})
{%- endmacro %}

{#- A CRM user reference: a list of openUserIds (owner, created_by) or a plain string. -#}
{% macro crm_user_ref(column, path) -%}
    coalesce(
        {{ sfa.text_field(column, path ~ '[0]') }},
        case when {{ sfa.text_field(column, path) }} not like '[%' then {{ sfa.text_field(column, path) }} end
    )
{%- endmacro %}

{#- A record's canonical id: its identity cluster (a row of `identity_for`), else `<source>:<id>`. -#}
{% macro canonical_id(identity_alias, source, id_expr) -%}
    coalesce({{ identity_alias }}.canonical_id, '{{ source }}:' || cast({{ id_expr }} as {{ dbt.type_string() }}))
{%- endmacro %}

{#-
    Body of the staging models that carry a canonical id (leads, contacts, CRM accounts, ERP
    customers): the base table's current, non-quarantined rows plus `<canonical_column>` from the
    identity map. These are key-incremental tables rather than views (macros/incremental_keys.sql):
    joining the identity map costs about a second per read at a million leads, and they are read
    by several models and tests each run. A run rewrites the ids extracted since the last one, ids
    new to the table (or back from quarantine) and, when the map's fingerprint differs from the one
    the table was last built with, ids whose canonical id changed; the post-hook drops ids that
    were quarantined since. `refreshed_at` tells downstream models which rows changed.
-#}
{% macro staging_with_identity(stream, base_model, id_column, canonical_column, source) -%}
{%- set base = ref(base_model) -%}

{%- set fingerprints = sfa.input_fingerprints([stream], stream) if is_incremental() else {} -%}
{%- set stored = sfa.stored_fingerprints() if is_incremental() else {} -%}
{%- set identity_changed = is_incremental() and not sfa.input_unchanged('identity_map', fingerprints, stored) -%}
{#- Ids new to the table without a new version are ids released from quarantine. -#}
{%- set quarantine_changed = is_incremental() and not sfa.input_unchanged('quarantine', fingerprints, stored) -%}
{#- The whole map when it is diffed (or in a full build), else only the affected ids' entries. -#}
{%- set whole_map = not is_incremental() or identity_changed %}

with

{%- if whole_map %}

identity as (

    {{ sfa.identity_for(stream) }}

),

{%- endif %}

{%- if is_incremental() %}

affected as (

    {{ sfa.keys_changed_since_built(base, id_column, include_unseen=quarantine_changed) }}
    {%- if identity_changed %}

    union

    select built.{{ id_column }}
    from {{ this }} as built
    left join identity
        on cast(built.{{ id_column }} as {{ dbt.type_string() }}) = identity.record_id
    where {{ sfa.differs('built.' ~ canonical_column, sfa.canonical_id('identity', source, 'built.' ~ id_column)) }}
    {%- endif %}

),

{%- endif %}

{%- if not whole_map %}

identity as (

    {{ sfa.identity_for(stream, '(select cast(' ~ id_column ~ ' as ' ~ dbt.type_string() ~ ') from affected)') }}

),

{%- endif %}

renamed as (

    select *
    from {{ base }}
    where {{ sfa.not_quarantined(stream, id_column) }}
    {%- if is_incremental() %}
        and {{ sfa.key_in(base, id_column, 'select ' ~ id_column ~ ' from affected') }}
    {%- endif %}

),

final as (

    select
        renamed.*,
        {{ sfa.canonical_id('identity', source, 'renamed.' ~ id_column) }} as {{ canonical_column }},
        {{ sfa.refreshed_at() }} as refreshed_at
    from renamed
    left join identity
        on cast(renamed.{{ id_column }} as {{ dbt.type_string() }}) = identity.record_id

)

select * from final
{%- endmacro %}

{#- Config shared by those models: post-hooks delete ids quarantined since the last run and remember
    the identity map's fingerprint. -#}
{% macro staging_with_identity_config(stream, base_model, id_column) -%}
    {{ config(
        materialized='incremental',
        unique_key=id_column,
        incremental_strategy='delete+insert',
        post_hook=[
            "{{ sfa.delete_keys_not_in('" ~ id_column ~ "', '(select " ~ id_column ~ " from ' ~ ref('" ~ base_model ~ "') ~ ' where ' ~ sfa.not_quarantined('" ~ stream ~ "', '" ~ id_column ~ "') ~ ')', quarantine_streams=['" ~ stream ~ "']) }}",
            "{{ sfa.remember_input_fingerprints(['" ~ stream ~ "'], '" ~ stream ~ "') }}",
        ],
    ) }}
{%- endmacro %}
