-- CRM contacts (`ContactObj`), latest version per id, quarantined ids excluded.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__contacts` view on top.

{{ config(materialized='incremental', unique_key='contact_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_contacts') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
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
        {{ sfa.crm_common_columns() }}
    from source
    {%- endcall %}

)

select * from renamed
