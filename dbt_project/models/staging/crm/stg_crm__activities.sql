-- CRM activities (`ActiveRecordObj`): calls, visits, e-mails and meetings. The records an activity relates to are in `int_crm__activity_links`.

with

renamed as (

    select *
    from {{ ref('base_crm__activities') }}
    where {{ sfa.not_quarantined('crm_activities', 'activity_id') }}

)

select * from renamed
