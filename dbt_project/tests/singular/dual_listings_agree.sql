{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_valuation_daily'}}}) }}
-- The USD market caps of one company's listings agree on days both have traded closes (raw or
-- recovered from dividends): they count the same ordinary shares, so they may differ only by the
-- hours between the two exchanges' closes and the FX rate, within var('dual_listing_tolerance').
-- Lists every breach: a wrong ADS ratio, FX direction or price basis shows as a factor of 8, 60
-- or a few percent on every day.
with

traded as (

    select symbol, company_id, date, market_cap_usd
    from {{ ref('fct_valuation_daily') }}
    where price_basis in ('raw', 'from_dividends', 'from_overlap') and market_cap_usd > 0
      -- only companies with two listings can breach: the join then holds their rows, not all
      -- of the history's (at 5,000 listings x 20 years, 4.8 -> 1.0 s)
      and company_id in (select company_id from {{ ref('dim_listing') }} group by company_id having count(*) > 1)

)

select
    first_listing.company_id,
    first_listing.date,
    first_listing.symbol as symbol,
    second_listing.symbol as other_symbol,
    first_listing.market_cap_usd,
    second_listing.market_cap_usd as other_market_cap_usd,
    first_listing.market_cap_usd / second_listing.market_cap_usd - 1 as relative_difference
from traded as first_listing
inner join traded as second_listing
    on first_listing.company_id = second_listing.company_id
    and first_listing.date = second_listing.date
    and first_listing.symbol < second_listing.symbol
where abs(first_listing.market_cap_usd / second_listing.market_cap_usd - 1) > {{ var('dual_listing_tolerance') }}
