-- Each company's market cap side by side in USD, HKD and CNY, through the listing the peer
-- comparison counts it by (marts.mart_peer_valuation.represents_company: one listing per company,
-- the one with the most recent multiples, its primary listing on a tie), on that listing's latest
-- day up to the comparison's valuation date on which all three are known (an FX series that has
-- ended leaves no currency null: the row is from its last common day, and as_of_date says which).
-- The peer comparison has that day's three figures already (all_currencies_*): no scan of the
-- daily history here.
select distinct
    companies.company_name,
    peers.symbol,
    peers.all_currencies_date as as_of_date,
    peers.all_currencies_market_cap_usd as market_cap_usd,
    peers.all_currencies_market_cap_hkd as market_cap_hkd,
    peers.all_currencies_market_cap_cny as market_cap_cny
from marts.mart_peer_valuation as peers
inner join marts.dim_company as companies on peers.company_id = companies.company_id
where peers.represents_company and peers.all_currencies_date is not null
order by market_cap_usd desc
