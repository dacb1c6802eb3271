-- Opportunity stage changes (custom object `opportunity_stage_change__c`): one row per change, with the amount, close date and forecast category at that change.

with

renamed as (

    select *
    from {{ ref('base_crm__opportunity_stage_changes') }}
    where {{ sfa.not_quarantined('crm_opportunity_stage_changes', 'stage_change_id') }}

)

select * from renamed
