-- Amounts of one company must share one currency: TTM sums and ratios would mix units otherwise.
select company_id, count(distinct currency) as currencies
from {{ ref('int_financial_metrics') }}
where unit = 'amount'
group by company_id
having count(distinct currency) > 1
