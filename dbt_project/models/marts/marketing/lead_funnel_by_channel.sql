with

people as (

    select * from {{ ref('int_lead_people') }}

),

channels as (

    select channel from {{ ref('channels') }}
    union
    select coalesce(channel, 'unknown') from people

),

counts as (

    select
        coalesce(channel, 'unknown') as channel,
        count(*) as leads,
        {{ sfa.count_if('is_mql') }} as mql,
        {{ sfa.count_if('is_sql') }} as sql,
        {{ sfa.count_if('is_converted') }} as opportunity,
        {{ sfa.count_if('is_won') }} as won,
        sum(won_amount_cny) as won_amount_cny
    from people
    group by 1

),

final as (

    select
        channels.channel,
        coalesce(counts.leads, 0) as leads,
        coalesce(counts.mql, 0) as mql,
        coalesce(counts.sql, 0) as sql,
        coalesce(counts.opportunity, 0) as opportunity,
        coalesce(counts.won, 0) as won,
        {{ sfa.ratio('counts.mql', 'counts.leads') }} as lead_to_mql_rate,
        {{ sfa.ratio('counts.sql', 'counts.mql') }} as mql_to_sql_rate,
        {{ sfa.ratio('counts.opportunity', 'counts.sql') }} as sql_to_opportunity_rate,
        {{ sfa.ratio('counts.won', 'counts.opportunity') }} as opportunity_to_won_rate,
        {{ sfa.ratio('counts.won', 'counts.leads') }} as lead_to_won_rate,
        cast(coalesce(counts.won_amount_cny, 0) as {{ sfa.type_amount() }}) as won_amount_cny
    from channels
    left join counts
        on channels.channel = counts.channel

)

select * from final
