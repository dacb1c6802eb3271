-- A view: the stage spells as BI reads them; copying half a million rows each run buys nothing.
{{ config(materialized='view') }}

with

spells as (

    select * from {{ ref('int_opportunity_stage_spells') }}

),

final as (

    {#- Columns listed: the intermediate's bookkeeping (extracted_at, refreshed_at) stays out. #}
    select
        stage_change_id,
        opportunity_id,
        change_sequence,
        from_stage,
        to_stage,
        changed_at,
        next_changed_at,
        is_current_stage,
        days_in_stage,
        amount_at_change,
        amount_cny_at_change,
        close_date_at_change,
        forecast_category_at_change,
        owner_id,
        team_name,
        is_open,
        is_won,
        is_lost
    from spells

)

select * from final
