{{ sfa.forecast_current(['product_line']) }}
