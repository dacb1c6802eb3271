-- Marketing campaigns / market events (HubSpot-style).

with

renamed as (

    select *
    from {{ ref('base_marketing__campaigns') }}
    where {{ sfa.not_quarantined('mkt_campaigns', 'campaign_id') }}

)

select * from renamed
