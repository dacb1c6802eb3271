-- Sales quotas per rep and fiscal year (`GoalValueObj`), monthly values in CNY. Unpivoted to months in `int_crm__quota_months`.

with

renamed as (

    select *
    from {{ ref('base_crm__quotas') }}
    where {{ sfa.not_quarantined('crm_quotas', 'quota_id') }}

)

select * from renamed
