-- CRM opportunities (`NewOpportunityObj`), latest version per id, quarantined ids excluded.

with

renamed as (

    select *
    from {{ ref('base_crm__opportunities') }}
    where {{ sfa.not_quarantined('crm_opportunities', 'opportunity_id') }}

)

select * from renamed
