-- Form submissions (captured leads) with UTM parameters.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_marketing__form_submissions` view on top.

{{ config(materialized='incremental', unique_key='form_submission_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('mkt_form_submissions') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as form_submission_id,
        {{ sfa.text_field('_record', 'properties.form_id') }} as form_id,
        {{ sfa.text_field('_record', 'properties.campaign_id') }} as campaign_id,
        {{ sfa.text_field('_record', 'properties.name') }} as submitter_name,
        {{ sfa.text_field('_record', 'properties.email') }} as email,
        {{ sfa.text_field('_record', 'properties.phone') }} as phone,
        {{ sfa.text_field('_record', 'properties.company') }} as company,
        {{ sfa.text_field('_record', 'properties.job_title') }} as job_title,
        {{ sfa.text_field('_record', 'properties.utm_source') }} as utm_source,
        {{ sfa.text_field('_record', 'properties.utm_medium') }} as utm_medium,
        {{ sfa.text_field('_record', 'properties.utm_campaign') }} as utm_campaign,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'properties.submitted_at')) }} as submitted_at,
        {{ sfa.text_field('_record', 'properties.crm_lead_id') }} as crm_lead_id,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'createdAt')) }} as created_at,
        {{ sfa.utc_text_to_local(sfa.json_field('_record', 'updatedAt')) }} as updated_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
