-- CRM contacts (`ContactObj`), latest version per id, quarantined ids excluded.

with

source as (

    {{ sfa.raw_current('crm_contacts') }}

),

renamed as (

    select
        _record_id as contact_id,
        {{ sfa.text_field('_record', 'name') }} as contact_name,
        {{ sfa.text_field('_record', 'account_id') }} as account_id,
        {{ sfa.text_field('_record', 'leads_id') }} as lead_id,
        {{ sfa.text_field('_record', 'mobile') }} as mobile,
        {{ sfa.text_field('_record', 'tel') }} as tel,
        {{ sfa.text_field('_record', 'email') }} as email,
        {{ sfa.text_field('_record', 'job_title') }} as job_title,
        {{ sfa.text_field('_record', 'contact_role__c') }} as contact_role,
        {{ sfa.text_field('_record', 'stance__c') }} as stance,
        {{ sfa.crm_user_ref('_record', 'owner') }} as owner_id,
        {{ sfa.crm_user_ref('_record', 'created_by') }} as created_by_id,
        {{ sfa.text_field('_record', 'life_status') }} as life_status,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'create_time')) }} as created_at,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'last_modified_time')) }} as modified_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source

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
