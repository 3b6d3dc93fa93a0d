{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_valuation_daily'}}}) }}
-- A listing's market cap moving more than 50% from one trading day to the next is worth a look
-- (a bad price, a wrong share count, prices and shares on different split bases, a currency
-- switch). Prices and share counts are both on today's split basis, so a split day is no excuse.
-- Checks every row of the history, each against the previous day with a market cap: a problem
-- that stays in the data keeps failing, build after build.
with

daily as (

    select
        symbol,
        date,
        market_cap_local,
        lag(market_cap_local) over (partition by symbol order by date) as previous_market_cap_local
    from {{ ref('fct_valuation_daily') }}
    where market_cap_local is not null

)

select symbol, date, previous_market_cap_local, market_cap_local
from daily
where previous_market_cap_local > 0
  and abs(market_cap_local / previous_market_cap_local - 1) > 0.5
