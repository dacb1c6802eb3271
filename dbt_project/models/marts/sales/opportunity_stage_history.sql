with

spells as (

    select * from {{ ref('int_opportunity_stage_spells') }}

),

final as (

    select * from spells

)

select * from final
