-- Trailing P/E over time: each peer group's median across its companies (primary listings),
-- China internet against the US megacaps. Weekly (Fridays' rows) to keep the chart light.
select
    groups.peer_group,
    valuation.date,
    median(valuation.pe_ttm) as median_pe_ttm,
    count(valuation.pe_ttm) as companies_with_pe
from marts.fct_valuation_daily as valuation
inner join marts.dim_listing as listings on valuation.symbol = listings.symbol and listings.is_primary
inner join marts.bridge_company_peer_group as groups on valuation.company_id = groups.company_id
where groups.peer_group in ('china_internet', 'us_megacap_tech')
  and valuation.pe_ttm is not null
  and dayofweek(valuation.date) = 5
group by groups.peer_group, valuation.date
order by valuation.date, groups.peer_group
