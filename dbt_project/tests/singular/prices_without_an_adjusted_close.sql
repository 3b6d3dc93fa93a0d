{{ config(severity='warn', store_failures=true, meta={'dagster': {'ref': {'name': 'stg_prices'}}}) }}
-- A traded close whose download gave no adjusted close, where no return could be chained to it (a
-- dividend or split since the download's last adjusted close): returns, drawdowns and rebounds have
-- a gap on those days, valuation does not. Listed per symbol and run of days, so that the gap is
-- named, not found later as a hole in a chart; dbt_test__audit.prices_without_an_adjusted_close
-- keeps the list of each build. It reads every row: a gap stays listed until a download fills it.
with

gaps as (

    select
        symbol,
        date,
        -- consecutive gap days of one symbol share this number
        row_number() over (partition by symbol order by date)
            - row_number() over (partition by symbol, adj_close_price is null order by date) as run
    from {{ ref('stg_prices') }}
    qualify adj_close_price is null

)

select symbol, min(date) as first_date, max(date) as last_date, count(*) as days_without_adjusted_close
from gaps
group by symbol, run
