-- Each company's market cap side by side in USD, HKD and CNY, on its latest date where all
-- three are known (an FX series that stopped leaves a currency null; that date is passed over),
-- through whichever listing has the latest traded close (Alibaba: 9988.HK after BABA's traded
-- closes end in the sample), the primary one on a tie.
with latest as (
    select
        valuation.company_id,
        valuation.symbol,
        valuation.date,
        valuation.market_cap_usd,
        valuation.market_cap_hkd,
        valuation.market_cap_cny,
        row_number() over (
            partition by valuation.company_id order by valuation.date desc, listings.is_primary desc
        ) as recency
    from marts.fct_valuation_daily as valuation
    inner join marts.dim_listing as listings on valuation.symbol = listings.symbol
    where valuation.market_cap_usd is not null
      and valuation.market_cap_hkd is not null
      and valuation.market_cap_cny is not null
)
select
    companies.company_name,
    latest.symbol,
    latest.date as as_of_date,
    latest.market_cap_usd,
    latest.market_cap_hkd,
    latest.market_cap_cny
from latest
inner join marts.dim_company as companies on latest.company_id = companies.company_id
where latest.recency = 1
order by latest.market_cap_usd desc
