-- Rep forecast submissions per month (custom `forecast_submission__c`): commit and best case, with the manager's adjustment.

with

renamed as (

    select *
    from {{ ref('base_crm__forecast_submissions') }}
    where {{ sfa.not_quarantined('crm_forecast_submissions', 'submission_id') }}

)

select * from renamed
