-- Trailing P/E over time: each peer group's median across its companies (each company once a day,
-- through its primary listing unless only another one has a P/E that day), China internet against
-- the US megacaps, with how many of the group's companies it is taken over. A median over fewer
-- than half of the group (or fewer than two companies) is null: those weeks stay in, labelled, so
-- a chart shows them as missing instead of a gap nobody explains. Weekly (Fridays' rows) to keep
-- the chart light.
select
    peer_group,
    date,
    median_pe_ttm,
    companies_with_pe,
    companies_in_group,
    case
        when median_pe_ttm is not null
            then printf('median P/E %.1f (%d of %d)', median_pe_ttm, companies_with_pe, companies_in_group)
        else printf('no median (%d of %d with a P/E)', companies_with_pe, companies_in_group)
    end as median_pe_label
from marts.mart_peer_valuation_daily
where peer_group in ('china_internet', 'us_megacap_tech')
  and dayofweek(date) = 5
order by date, peer_group
