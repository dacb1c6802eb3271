-- Daily spend, impressions and clicks per campaign.

with

source as (

    {{ sfa.raw_current('mkt_campaign_daily_metrics') }}

),

renamed as (

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

)

select * from renamed
