-- Sales reps with their team (main department) and region (the team's parent department).

with

users as (

    select * from {{ ref('stg_crm__users') }}

),

departments as (

    select * from {{ ref('stg_crm__departments') }}
    where not is_deleted

),

managers as (

    select user_id, user_name from users

),

final as (

    select
        users.user_id,
        users.user_name,
        users.position,
        users.is_stopped,
        users.manager_user_id,
        managers.user_name as manager_name,
        users.department_id as team_id,
        teams.department_name as team_name,
        case
            when teams.parent_department_id is null
                or teams.parent_department_id = {{ var('crm_company_department_id') }}
                then teams.department_id
            else teams.parent_department_id
        end as region_id,
        case
            when teams.parent_department_id is null
                or teams.parent_department_id = {{ var('crm_company_department_id') }}
                then teams.department_name
            else regions.department_name
        end as region_name
    from users
    left join departments as teams
        on users.department_id = teams.department_id
    left join departments as regions
        on teams.parent_department_id = regions.department_id
    left join managers
        on users.manager_user_id = managers.user_id
    where not users.is_deleted

)

select * from final
