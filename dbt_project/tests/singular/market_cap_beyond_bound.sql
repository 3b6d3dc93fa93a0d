{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_valuation_daily'}}}) }}
-- No listed company has ever been worth var('market_cap_bound_usd') (20 trillion USD): a market cap
-- above it is a wrong price, share count or unit, named here by symbol and date.
select symbol, date, close, shares_outstanding, market_cap_usd
from {{ ref('fct_valuation_daily') }}
where market_cap_usd > {{ var('market_cap_bound_usd') }}
