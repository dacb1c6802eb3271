-- Daily spend, impressions and clicks per campaign.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_marketing__campaign_daily_metrics` view on top.

{{ config(materialized='incremental', unique_key='metric_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('mkt_campaign_daily_metrics') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as metric_id,
        {{ sfa.text_field('_record', 'properties.campaign_id') }} as campaign_id,
        {{ sfa.text_to_date(sfa.text_field('_record', 'properties.date')) }} as metric_date,
        {{ sfa.to_amount(sfa.json_field('_record', 'properties.spend')) }} as spend,
        {{ sfa.text_field('_record', 'properties.currency') }} as currency,
        {{ sfa.to_bigint(sfa.json_field('_record', 'properties.impressions')) }} as impressions,
        {{ sfa.to_bigint(sfa.json_field('_record', 'properties.clicks')) }} as clicks,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'createdAt')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'updatedAt')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
