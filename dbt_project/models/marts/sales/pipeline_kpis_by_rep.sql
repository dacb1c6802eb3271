{{ sfa.pipeline_kpis(['owner_id', 'owner_name', 'team_id', 'team_name', 'region_name']) }}
