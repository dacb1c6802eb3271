-- CRM users (sales reps and managers). Full snapshot each run.

with

renamed as (

    select *
    from {{ ref('base_crm__users') }}
    where {{ sfa.not_quarantined('crm_users', 'user_id') }}

)

select * from renamed
