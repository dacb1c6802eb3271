-- CRM users (sales reps and managers). Full snapshot each run.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__users` view on top.

{{ config(materialized='incremental', unique_key='user_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_users') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as user_id,
        {{ sfa.text_field('_record', 'name') }} as user_name,
        {{ sfa.text_field('_record', 'nickName') }} as nick_name,
        {{ sfa.text_field('_record', 'email') }} as email,
        {{ sfa.text_field('_record', 'mobile') }} as mobile,
        {{ sfa.text_field('_record', 'position') }} as position,
        {{ sfa.to_bigint(sfa.json_field('_record', 'mainDepartmentId')) }} as department_id,
        {{ sfa.json_array_length('_record', 'departmentIds') }} as department_count,
        {{ sfa.text_field('_record', 'leaderId') }} as manager_user_id,
        {{ sfa.to_boolean(sfa.json_field('_record', 'isStop')) }} as is_stopped,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'createTime')) }} as created_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
