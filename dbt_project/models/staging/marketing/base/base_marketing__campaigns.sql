-- Marketing campaigns / market events (HubSpot-style).
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_marketing__campaigns` view on top.

{{ config(materialized='incremental', unique_key='campaign_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('mkt_campaigns') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as campaign_id,
        {{ sfa.text_field('_record', 'properties.name') }} as campaign_name,
        {{ sfa.text_field('_record', 'properties.channel') }} as channel,
        {{ sfa.text_to_date(sfa.text_field('_record', 'properties.start_date')) }} as start_date,
        {{ sfa.text_to_date(sfa.text_field('_record', 'properties.end_date')) }} as end_date,
        {{ sfa.to_amount(sfa.json_field('_record', 'properties.budget')) }} as budget,
        {{ sfa.text_field('_record', 'properties.currency') }} as currency,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'createdAt')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'updatedAt')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
