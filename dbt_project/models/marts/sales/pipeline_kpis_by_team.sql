{{ sfa.pipeline_kpis(['team_id', 'team_name', 'region_name']) }}
