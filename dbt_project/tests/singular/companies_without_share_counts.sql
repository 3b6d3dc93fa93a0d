{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_valuation_daily'}}}) }}
-- A listing with prices but no share count anywhere in its history has no market cap at all: say
-- which, rather than leave a column of nulls to be noticed.
select symbol, company_id, count(*) as trading_days, min(date) as first_date, max(date) as last_date
from {{ ref('fct_valuation_daily') }}
group by symbol, company_id
having count(shares_outstanding) = 0
