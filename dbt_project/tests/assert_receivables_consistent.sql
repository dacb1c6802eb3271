-- Receivables never go negative or exceed what was invoiced, and overdue is part of outstanding.

select customer_id, invoiced_cny, outstanding_cny, overdue_cny
from {{ ref('customer_360') }}
where outstanding_cny < 0
    or overdue_cny < 0
    or overdue_cny > outstanding_cny
    or outstanding_cny > invoiced_cny
