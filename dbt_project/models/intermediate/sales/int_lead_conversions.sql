-- Which current (non-deleted) opportunity each lead converted into. A lead links to its
-- opportunity from either side (`new_opportunity_id` on the lead, `leads_id` on the
-- opportunity); the earliest-created linked opportunity counts.

with

leads as (

    select * from {{ ref('stg_crm__leads') }}
    where not is_deleted

),

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

links as (

    select leads.lead_id, leads.opportunity_id
    from leads
    where leads.opportunity_id is not null

    union

    select opportunities.lead_id, opportunities.opportunity_id
    from opportunities
    where opportunities.lead_id is not null

),

linked as (

    select
        links.lead_id,
        opportunities.opportunity_id,
        opportunities.created_at as opportunity_created_at,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.close_date,
        opportunities.amount_cny,
        row_number() over (
            partition by links.lead_id
            order by opportunities.created_at, opportunities.opportunity_id
        ) as opportunity_rank
    from links
    inner join opportunities
        on links.opportunity_id = opportunities.opportunity_id

),

final as (

    select
        lead_id,
        opportunity_id,
        opportunity_created_at,
        is_won,
        is_lost,
        close_date,
        amount_cny
    from linked
    where opportunity_rank = 1

)

select * from final
