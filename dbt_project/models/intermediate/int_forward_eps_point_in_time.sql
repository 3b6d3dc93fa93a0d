-- The analysts' forward EPS of each company, one row per snapshot of the consensus: the average
-- estimate of the next fiscal year (Yahoo's +1y period), per ordinary share, in the currency the
-- source states, with the moment it became known (the snapshot). fct_valuation_daily joins it as
-- of each session, like the reported figures, and drops it once older than
-- `forward_eps_max_age_days`.
--
-- Units: the source quotes estimates per listing unit of the symbol asked (BABA's per ADS, in CNY
-- beside a USD price), so they are divided by the listing's ordinary shares per unit. They are on
-- the split basis of the snapshot day: a later split of the listing divides them as it divides the
-- prices before it.

with

estimates as (

    select *
    from {{ ref('stg_consensus_estimates') }}
    where estimate_period = '+1y' and eps_avg is not null and eps_currency is not null

),

listings as (

    select symbol, company_id, shares_per_listing_unit, is_primary from {{ ref('stg_universe_listings') }}

),

splits as (

    select symbol, ex_date, split_ratio from {{ ref('stg_stock_splits') }} where split_ratio <> 1

),

per_ordinary_share as (

    select
        listings.company_id,
        estimates.symbol,
        listings.is_primary,
        estimates.snapshot_date,
        estimates.snapshot_at_utc,
        estimates.period_end,
        estimates.eps_avg
            / listings.shares_per_listing_unit
            / coalesce(
                (
                    select product(splits.split_ratio)
                    from splits
                    where splits.symbol = estimates.symbol and splits.ex_date > estimates.snapshot_date
                ),
                1
            ) as forward_eps,
        estimates.eps_currency,
        estimates.eps_analysts
    from estimates
    inner join listings on estimates.symbol = listings.symbol

),

final as (

    -- one snapshot per company and day: its primary listing's where several listings were asked
    select
        company_id,
        symbol as forward_eps_symbol,
        snapshot_date as forward_eps_snapshot_date,
        snapshot_at_utc as published_at_utc,
        period_end as forward_eps_period_end,
        forward_eps,
        eps_currency as forward_eps_currency,
        eps_analysts as forward_eps_analysts,
        'consensus_next_fiscal_year' as forward_eps_basis
    from per_ordinary_share
    qualify row_number() over (
        partition by company_id, snapshot_date order by is_primary desc, symbol
    ) = 1

)

select * from final
