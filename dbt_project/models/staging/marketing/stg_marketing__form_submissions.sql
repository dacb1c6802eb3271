-- Form submissions (captured leads) with UTM parameters.

with

renamed as (

    select *
    from {{ ref('base_marketing__form_submissions') }}
    where {{ sfa.not_quarantined('mkt_form_submissions', 'form_submission_id') }}

)

select * from renamed
