-- Trailing P/E over time: each peer group's median across its companies (each company once a day,
-- through its primary listing unless only another one has a P/E that day),
-- China internet against the US megacaps. Weekly (Fridays' rows) to keep the chart light.
select peer_group, date, median_pe_ttm, companies_with_pe
from marts.mart_peer_valuation_daily
where peer_group in ('china_internet', 'us_megacap_tech')
  and median_pe_ttm is not null
  and dayofweek(date) = 5
order by date, peer_group
