{{ sfa.forecast_current(['owner_id', 'owner_name', 'team_id', 'team_name'], with_manager=true) }}
