with

people as (

    select * from {{ ref('int_lead_people') }}

),

steps as (

    select
        people.*,
        {{ sfa.days_between('first_lead_at', 'mql_at') }} as days_lead_to_mql,
        {{ sfa.days_between('mql_at', 'sql_at') }} as days_mql_to_sql,
        {{ sfa.days_between('sql_at', 'opportunity_created_at') }} as days_sql_to_opportunity,
        {{ sfa.days_between('opportunity_created_at', 'won_date') }} as days_opportunity_to_won
    from people

),

final as (

    select
        cohort_month,
        coalesce(channel, 'unknown') as channel,
        coalesce(campaign_id, 'none') as campaign_id,
        coalesce(team_name, 'unassigned') as team_name,
        count(*) as leads,
        {{ sfa.count_if('is_mql') }} as mql,
        {{ sfa.count_if('is_sql') }} as sql,
        {{ sfa.count_if('is_converted') }} as opportunity,
        {{ sfa.count_if('is_won') }} as won,
        {{ sfa.ratio(sfa.count_if('is_mql'), 'count(*)') }} as lead_to_mql_rate,
        {{ sfa.ratio(sfa.count_if('is_sql'), sfa.count_if('is_mql')) }} as mql_to_sql_rate,
        {{ sfa.ratio(sfa.count_if('is_converted'), sfa.count_if('is_sql')) }} as sql_to_opportunity_rate,
        {{ sfa.ratio(sfa.count_if('is_won'), sfa.count_if('is_converted')) }} as opportunity_to_won_rate,
        {{ sfa.ratio(sfa.count_if('is_sql'), 'count(*)') }} as cumulative_sql_rate,
        {{ sfa.ratio(sfa.count_if('is_converted'), 'count(*)') }} as cumulative_opportunity_rate,
        {{ sfa.ratio(sfa.count_if('is_won'), 'count(*)') }} as cumulative_won_rate,
        {{ sfa.median('days_lead_to_mql') }} as median_days_lead_to_mql,
        {{ sfa.median('days_mql_to_sql') }} as median_days_mql_to_sql,
        {{ sfa.median('days_sql_to_opportunity') }} as median_days_sql_to_opportunity,
        {{ sfa.median('days_opportunity_to_won') }} as median_days_opportunity_to_won
    from steps
    group by 1, 2, 3, 4

)

select * from final
