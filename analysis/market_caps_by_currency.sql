-- Each company's market cap side by side in USD, HKD and CNY, through the listing the peer
-- comparison counts it by (marts.mart_peer_valuation.represents_company: one listing per company,
-- the one with the most recent multiples, its primary listing on a tie), on that listing's latest
-- day up to the comparison's valuation date on which all three are known (an FX series that has
-- ended leaves no currency null: the row is from its last common day, and as_of_date says which).
with company_listings as (
    -- a company in several peer groups counts through the same listing in each
    select distinct company_id, symbol, valuation_date
    from marts.mart_peer_valuation
    where represents_company
),

complete_days as (
    select
        company_listings.company_id,
        valuation.symbol,
        max(valuation.date) as as_of_date
    from company_listings
    inner join marts.fct_valuation_daily as valuation
        on company_listings.symbol = valuation.symbol
        and valuation.date <= company_listings.valuation_date
        and valuation.market_cap_usd is not null
        and valuation.market_cap_hkd is not null
        and valuation.market_cap_cny is not null
    group by all
)

select
    companies.company_name,
    complete_days.symbol,
    complete_days.as_of_date,
    valuation.market_cap_usd,
    valuation.market_cap_hkd,
    valuation.market_cap_cny
from complete_days
inner join marts.fct_valuation_daily as valuation
    on complete_days.symbol = valuation.symbol and complete_days.as_of_date = valuation.date
inner join marts.dim_company as companies on complete_days.company_id = companies.company_id
order by valuation.market_cap_usd desc
