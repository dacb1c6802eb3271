-- Engagement events: e-mail opens and clicks, page views, content downloads, webinar attendance.

with

renamed as (

    select *
    from {{ ref('base_marketing__engagement_events') }}
    where {{ sfa.not_quarantined('mkt_engagement_events', 'event_id') }}

)

select * from renamed
