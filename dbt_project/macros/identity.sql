{#-
    Canonical ids from `quality.identity_map` (source_contract.md section 5) for one stream's
    records. The quality layer names entities by the stream's table (`crm_leads`) or by a short
    noun (`lead`); both spellings are accepted so that neither side has to rename.
-#}
{% macro identity_for(stream) -%}
    {%- set aliases = var('identity_entity_aliases')[stream] -%}
    select
        record_id,
        max(canonical_id) as canonical_id
    from {{ source('quality', 'identity_map') }}
    where entity in ('{{ stream }}'{% for alias in aliases %}, '{{ alias }}'{% endfor %})
    group by record_id
{%- endmacro %}

{#- A CRM user reference: a list of openUserIds (owner, created_by) or a plain string. -#}
{% macro crm_user_ref(column, path) -%}
    coalesce(
        {{ sfa.text_field(column, path ~ '[0]') }},
        case when {{ sfa.text_field(column, path) }} not like '[%' then {{ sfa.text_field(column, path) }} end
    )
{%- endmacro %}
