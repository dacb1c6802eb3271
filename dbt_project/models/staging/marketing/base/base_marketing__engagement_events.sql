-- Engagement events: e-mail opens and clicks, page views, content downloads, webinar attendance.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_marketing__engagement_events` view on top.

{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('mkt_engagement_events') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as event_id,
        {{ sfa.text_field('_record', 'properties.event_type') }} as event_type,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'properties.occurred_at')) }} as occurred_at,
        {{ sfa.text_field('_record', 'properties.campaign_id') }} as campaign_id,
        {{ sfa.text_field('_record', 'properties.email') }} as email,
        {{ sfa.text_field('_record', 'properties.crm_lead_id') }} as crm_lead_id,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'createdAt')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'updatedAt')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

{#- refreshed_at: which run wrote the row; the primary_key test checks only the newest batch. #}
select
    renamed.*,
    {{ sfa.refreshed_at() }} as refreshed_at
from renamed
