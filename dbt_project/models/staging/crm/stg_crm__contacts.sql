-- CRM contacts (`ContactObj`), latest version per id, quarantined ids excluded.

with

renamed as (

    select *
    from {{ ref('base_crm__contacts') }}
    where {{ sfa.not_quarantined('crm_contacts', 'contact_id') }}

),

identity as (

    {{ sfa.identity_for('crm_contacts') }}

),

final as (

    select
        renamed.*,
        coalesce(identity.canonical_id, 'crm:' || cast(renamed.contact_id as {{ dbt.type_string() }})) as person_id
    from renamed
    left join identity
        on cast(renamed.contact_id as {{ dbt.type_string() }}) = identity.record_id

)

select * from final
