-- Each company's market cap side by side in USD, HKD and CNY, from its latest valuation as the peer
-- comparison defines it (marts.mart_peer_valuation: one as-of date, each company through one listing,
-- the one with the most recent multiples, its primary listing on a tie), on that listing's
-- valuation_date. A currency whose FX series has no rate within a week of that day is null.
with company_valuations as (
    -- a company in several peer groups counts through the same listing in each
    select distinct company_id, symbol, valuation_date
    from marts.mart_peer_valuation
    where represents_company
)
select
    companies.company_name,
    valuation.symbol,
    valuation.date as as_of_date,
    valuation.market_cap_usd,
    valuation.market_cap_hkd,
    valuation.market_cap_cny
from company_valuations
inner join marts.fct_valuation_daily as valuation
    on company_valuations.symbol = valuation.symbol and company_valuations.valuation_date = valuation.date
inner join marts.dim_company as companies on company_valuations.company_id = companies.company_id
where valuation.market_cap_usd is not null
order by valuation.market_cap_usd desc
