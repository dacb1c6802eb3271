{#-
    The historical ("best practice") model's win probability for a deal: the win rate learned from
    earlier closed deals of the same stage, age and size bucket (`learned`), when at least
    var forecast_min_history_deals of them exist; else the stage's learned rate (`stage_learned`);
    else `fallback` (the stage's seed probability). Callers join both CTEs under those names.
-#}
{% macro learned_win_rate(fallback) -%}
case
    when learned.closed_deals >= {{ var('forecast_min_history_deals') }}
        then {{ sfa.ratio('learned.won_deals', 'learned.closed_deals', 4) }}
    when stage_learned.stage_closed_deals >= {{ var('forecast_min_history_deals') }}
        then {{ sfa.ratio('stage_learned.stage_won_deals', 'stage_learned.stage_closed_deals', 4) }}
    else {{ fallback }}
end
{%- endmacro %}
