-- Data-quality score per rep: fill rate of key fields on the rep's current leads, contacts and
-- opportunities, and timeliness of open opportunities.

with

leads as (

    select * from {{ ref('stg_crm__leads') }}
    where not is_deleted

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    where not is_deleted

),

opportunities as (

    select * from {{ ref('opportunities') }}

),

reps as (

    select * from {{ ref('int_crm__reps') }}

),

{#- Each key field contributes one check per record: filled = 1, empty = 0. -#}
field_checks as (

    select owner_id, 'lead' as record_kind,
        (case when company is not null then 1 else 0 end)
        + (case when coalesce(mobile, tel, email) is not null then 1 else 0 end)
        + (case when industry is not null then 1 else 0 end)
        + (case when job_title is not null then 1 else 0 end) as filled,
        4 as checked
    from leads

    union all

    select owner_id, 'contact' as record_kind,
        (case when coalesce(mobile, tel, email) is not null then 1 else 0 end)
        + (case when job_title is not null then 1 else 0 end)
        + (case when contact_role is not null then 1 else 0 end)
        + (case when stance is not null then 1 else 0 end) as filled,
        4 as checked
    from contacts

    union all

    select owner_id, 'opportunity' as record_kind,
        (case when amount is not null then 1 else 0 end)
        + (case when crm_close_date is not null then 1 else 0 end)
        + (case when forecast_category is not null then 1 else 0 end)
        + (case when product_line is not null then 1 else 0 end) as filled,
        4 as checked
    from opportunities

),

fill as (

    select
        owner_id,
        {{ sfa.count_if("record_kind = 'lead'") }} as leads,
        {{ sfa.count_if("record_kind = 'contact'") }} as contacts,
        {{ sfa.count_if("record_kind = 'opportunity'") }} as opportunities,
        {{ sfa.ratio('sum(filled)', 'sum(checked)', 4) }} as fill_rate
    from field_checks
    where owner_id is not null
    group by 1

),

timeliness as (

    select
        owner_id,
        count(*) as open_opportunities,
        {{ sfa.mean('days_since_stage_change') }} as mean_days_since_change,
        {{ sfa.count_if('is_stalled') }} as stalled_opportunities
    from opportunities
    where is_open
    group by 1

),

final as (

    select
        fill.owner_id,
        reps.user_name as owner_name,
        reps.team_name,
        fill.leads,
        fill.contacts,
        fill.opportunities,
        fill.fill_rate,
        coalesce(timeliness.open_opportunities, 0) as open_opportunities,
        timeliness.mean_days_since_change,
        coalesce(timeliness.stalled_opportunities, 0) as stalled_opportunities,
        {{ sfa.ratio('coalesce(timeliness.open_opportunities, 0) - coalesce(timeliness.stalled_opportunities, 0)',
            'timeliness.open_opportunities', 4) }} as timely_share,
        round(
            100 * {{ var('data_quality_fill_weight') }} * fill.fill_rate
            + 100 * {{ var('data_quality_timeliness_weight') }} * coalesce(
                {{ sfa.ratio('timeliness.open_opportunities - timeliness.stalled_opportunities', 'timeliness.open_opportunities', 4) }}, 1),
            1
        ) as data_quality_score
    from fill
    left join timeliness
        on fill.owner_id = timeliness.owner_id
    left join reps
        on fill.owner_id = reps.user_id

)

select * from final
