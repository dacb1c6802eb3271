with

people as (

    select * from {{ ref('int_lead_people') }}

),

final as (

    select
        coalesce(channel, 'unknown') as channel,
        count(*) as leads,
        {{ sfa.count_if('is_mql') }} as mql,
        {{ sfa.count_if('is_sql') }} as sql,
        {{ sfa.count_if('is_converted') }} as opportunity,
        {{ sfa.count_if('is_won') }} as won,
        {{ sfa.ratio(sfa.count_if('is_mql'), 'count(*)') }} as lead_to_mql_rate,
        {{ sfa.ratio(sfa.count_if('is_sql'), sfa.count_if('is_mql')) }} as mql_to_sql_rate,
        {{ sfa.ratio(sfa.count_if('is_converted'), sfa.count_if('is_sql')) }} as sql_to_opportunity_rate,
        {{ sfa.ratio(sfa.count_if('is_won'), sfa.count_if('is_converted')) }} as opportunity_to_won_rate,
        {{ sfa.ratio(sfa.count_if('is_won'), 'count(*)') }} as lead_to_won_rate,
        cast(sum(won_amount_cny) as {{ sfa.type_amount() }}) as won_amount_cny
    from people
    group by 1

)

select * from final
