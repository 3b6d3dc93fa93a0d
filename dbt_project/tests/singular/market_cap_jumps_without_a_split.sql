{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_valuation_daily'}}}) }}
-- A listing's market cap moving more than 50% from one trading day to the next, with no stock
-- split that day, is worth a look (a bad price, a wrong share count, a currency switch).
-- Checks the rows of the latest build (all of them after a full build), each against the day before.
with

latest_build as (

    select min(date) - 10 as first_date
    from {{ ref('fct_valuation_daily') }}
    where built_at = (select max(built_at) from {{ ref('fct_valuation_daily') }})

),

daily as (

    select
        valuation.symbol,
        valuation.date,
        valuation.market_cap_local,
        lag(valuation.market_cap_local) over (partition by valuation.symbol order by valuation.date) as previous_market_cap_local,
        coalesce(prices.stock_split_ratio, 0) as stock_split_ratio,
        valuation.built_at
    from {{ ref('fct_valuation_daily') }} as valuation
    left join {{ ref('stg_prices') }} as prices
        on valuation.symbol = prices.symbol and valuation.date = prices.trade_date
    where valuation.date >= (select first_date from latest_build)

)

select symbol, date, previous_market_cap_local, market_cap_local
from daily
where built_at = (select max(built_at) from {{ ref('fct_valuation_daily') }})
  and stock_split_ratio in (0, 1)
  and previous_market_cap_local > 0
  and abs(market_cap_local / previous_market_cap_local - 1) > 0.5
