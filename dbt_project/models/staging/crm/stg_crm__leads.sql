-- CRM leads (`LeadsObj`), latest version per id, quarantined ids excluded.

with

renamed as (

    select *
    from {{ ref('base_crm__leads') }}
    where {{ sfa.not_quarantined('crm_leads', 'lead_id') }}

),

identity as (

    {{ sfa.identity_for('crm_leads') }}

),

final as (

    select
        renamed.*,
        coalesce(identity.canonical_id, 'crm:' || cast(renamed.lead_id as {{ dbt.type_string() }})) as person_id
    from renamed
    left join identity
        on cast(renamed.lead_id as {{ dbt.type_string() }}) = identity.record_id

)

select * from final
