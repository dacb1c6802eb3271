with

leads as (

    select * from {{ ref('lead_sla') }}
    where is_sla_window_elapsed

),

final as (

    select
        owner_id,
        owner_name,
        team_id,
        team_name,
        cohort_month,
        count(*) as leads,
        {{ sfa.count_if('assigned_at is not null') }} as assigned_leads,
        {{ sfa.count_if('is_followed_up_within_sla') }} as followed_up_within_sla,
        {{ sfa.count_if('is_return_to_pool') }} as return_to_pool_leads,
        {{ sfa.ratio(sfa.count_if('is_followed_up_within_sla'), 'count(*)', 4) }} as follow_up_sla_attainment,
        {{ sfa.ratio(sfa.count_if('is_assigned_within_sla'), 'count(*)', 4) }} as assign_sla_attainment,
        {{ sfa.median('hours_to_assign') }} as median_hours_to_assign,
        {{ sfa.median('hours_to_first_follow_up') }} as median_hours_to_first_follow_up
    from leads
    group by 1, 2, 3, 4, 5

)

select * from final
