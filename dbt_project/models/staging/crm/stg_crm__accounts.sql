-- CRM accounts (customer companies, `AccountObj`), latest version per id, quarantined ids excluded.

with

renamed as (

    select *
    from {{ ref('base_crm__accounts') }}
    where {{ sfa.not_quarantined('crm_accounts', 'account_id') }}

),

identity as (

    {{ sfa.identity_for('crm_accounts') }}

),

final as (

    select
        renamed.*,
        coalesce(identity.canonical_id, 'crm:' || cast(renamed.account_id as {{ dbt.type_string() }})) as customer_id
    from renamed
    left join identity
        on cast(renamed.account_id as {{ dbt.type_string() }}) = identity.record_id

)

select * from final
