-- Each company's P/E on its three earnings bases, side by side and never mixed, on the latest
-- trading day of each week (Friday's rows): reported (GAAP / IFRS) trailing earnings, the
-- company's adjusted (non-GAAP) trailing earnings with the series it is on, and the analysts'
-- consensus of the next fiscal year with the snapshot it comes from. A basis the data cannot
-- support is null and labelled missing, so a reader sees which figure is absent, not a zero.
-- Each company once, through the listing the peer medians count it by (its primary listing unless
-- only another one has a P/E that day).
select
    companies.company_name,
    valuation.symbol,
    valuation.date,
    valuation.pe_ttm as pe_reported,
    valuation.pe_ttm_adjusted as pe_adjusted,
    coalesce(valuation.adjusted_earnings_basis, 'missing') as adjusted_earnings_basis,
    valuation.pe_forward,
    coalesce(cast(valuation.forward_eps_snapshot_date as varchar), 'missing') as forward_consensus_of
from marts.fct_valuation_daily as valuation
inner join marts.dim_listing as listings using (symbol)
inner join marts.dim_company as companies on listings.company_id = companies.company_id
where dayofweek(valuation.date) = 5
qualify row_number() over (
    partition by companies.company_id, valuation.date
    order by valuation.pe_ttm is null, not listings.is_primary, listings.symbol
) = 1
order by valuation.date, companies.company_name
