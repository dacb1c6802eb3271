-- CRM departments: the company (id 999999), regions below it and sales teams below the regions. Full snapshot each run.

with

renamed as (

    select *
    from {{ ref('base_crm__departments') }}
    where {{ sfa.not_quarantined('crm_departments', 'department_id') }}

)

select * from renamed
