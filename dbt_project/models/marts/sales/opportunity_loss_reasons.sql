with

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}
    where is_lost

),

final as (

    select
        coalesce(loss_reason, 'unknown') as loss_reason,
        count(*) as lost_deals,
        cast(sum(amount_cny) as {{ sfa.type_amount() }}) as lost_amount_cny,
        {{ sfa.ratio('count(*)', 'sum(count(*)) over ()', 4) }} as share_of_lost_deals
    from opportunities
    group by 1

)

select * from final
