-- Marketing campaigns / market events (HubSpot-style).

with

source as (

    {{ sfa.raw_current('mkt_campaigns') }}

),

renamed as (

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

)

select * from renamed
