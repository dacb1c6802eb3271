with

scores as (

    select * from {{ ref('lead_scores') }}

),

by_grade as (

    select
        lead_grade,
        count(*) as leads,
        {{ sfa.count_if('is_converted') }} as converted,
        {{ sfa.count_if('is_won') }} as won,
        {{ sfa.ratio(sfa.count_if('is_converted'), 'count(*)', 4) }} as conversion_rate,
        {{ sfa.ratio(sfa.count_if('is_won'), 'count(*)', 4) }} as win_rate
    from scores
    group by 1

),

final as (

    select
        by_grade.*,
        lead(conversion_rate) over (order by lead_grade) as next_grade_conversion_rate,
        coalesce(conversion_rate > lead(conversion_rate) over (order by lead_grade), true) as converts_better_than_next_grade
    from by_grade

)

select * from final
