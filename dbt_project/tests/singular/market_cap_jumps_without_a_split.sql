{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_valuation_daily'}}}) }}
-- A listing's market cap moving more than 50% from one trading day to the next, with no stock
-- split that day, is worth a look (a bad price, a wrong share count, a currency switch).
with

daily as (

    select
        valuation.symbol,
        valuation.date,
        valuation.market_cap_local,
        lag(valuation.market_cap_local) over (partition by valuation.symbol order by valuation.date) as previous_market_cap_local,
        coalesce(prices.stock_split_ratio, 0) as stock_split_ratio
    from {{ ref('fct_valuation_daily') }} as valuation
    left join {{ ref('stg_prices') }} as prices
        on valuation.symbol = prices.symbol and valuation.date = prices.trade_date

)

select symbol, date, previous_market_cap_local, market_cap_local
from daily
where stock_split_ratio in (0, 1)
  and previous_market_cap_local > 0
  and abs(market_cap_local / previous_market_cap_local - 1) > 0.5
