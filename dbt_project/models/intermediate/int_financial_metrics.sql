-- Reported line items mapped to the warehouse's metrics, one row per company, metric, period and
-- filing. Several line items of one metric are summed (Alibaba's D&A comes in two lines).
--
-- Share basis: a per-share figure or a share count carries the split basis of the document it
-- came from. Every later split of the company's primary listing (its stock_splits) is applied
-- here, so all figures are on today's basis, the basis of the prices (split_factor: the product
-- of the split ratios after the document; counts are multiplied by it, per-share figures divided).
-- Per-share figures are per ordinary share and counts count ordinary shares: one stated per
-- depositary share (unit per_ads) is divided by the ADS's ordinary shares, a count of depositary
-- shares (unit ads) multiplied by them.
--
-- Timing: `available_from` is the publication date (the filing date, or period end plus a
-- configured lag), a date in the company's filing time zone (its primary listing's exchange) with
-- no time of day. It therefore counts as published at the end of that day: `published_at_utc`.
-- fct_valuation_daily uses a figure from the first session of each listing's own exchange that
-- opens after that moment.

with

statements as (

    select * from {{ ref('stg_financial_statements') }}

),

metric_map as (

    select * from {{ ref('line_item_metrics') }}

),

listings as (

    select symbol, company_id from {{ ref('stg_universe_listings') }}

),

primary_listings as (

    select company_id, symbol, exchange_timezone
    from {{ ref('stg_universe_listings') }}
    where is_primary

),

ads_ratios as (

    -- ordinary shares per depositary share: a per-ADS figure (Baidu's and PDD's releases print EPS
    -- per ADS) is divided by it, so every per-share figure here is per ordinary share. A company
    -- with no ADS listing in universe.yml has no ratio, and its per-ADS figures are left out (a
    -- figure that cannot be put on the ordinary basis is not used). The ratio is the listing's as
    -- configured; figures from before an ADS-ratio change would need the ratio then.
    select company_id, max(shares_per_listing_unit) as ordinary_shares_per_ads
    from {{ ref('stg_universe_listings') }}
    where shares_per_listing_unit <> 1
    group by company_id

),

splits as (

    select primary_listings.company_id, splits.ex_date, splits.split_ratio
    from {{ ref('stg_stock_splits') }} as splits
    inner join primary_listings on splits.symbol = primary_listings.symbol
    where splits.split_ratio <> 1

),

mapped as (

    select
        listings.company_id,
        statements.symbol,
        metric_map.metric,
        statements.period_type,
        statements.fiscal_period,
        statements.period_start,
        statements.period_end,
        statements.filed_date,
        statements.currency,
        statements.unit,
        statements.reported_value * metric_map.sign as metric_value,
        statements.loaded_from_source as source,
        statements.loaded_at
    from statements
    inner join metric_map on statements.line_item = metric_map.line_item
    inner join listings on statements.symbol = listings.symbol

),

summed as (

    select
        company_id,
        symbol,
        metric,
        period_type,
        period_end,
        filed_date,
        currency,
        unit,
        source,
        min(fiscal_period) as fiscal_period,
        min(period_start) as period_start,
        sum(metric_value) as metric_value,
        count(*) as line_items_summed,
        max(loaded_at) as loaded_at
    from mapped
    group by company_id, symbol, metric, period_type, period_end, filed_date, currency, unit, source

),

preferred as (

    -- Two sources giving one figure in documents of one date (an EDGAR filing, and Yahoo's copy of
    -- the same period dated that day): the filing's value is used, never the two summed. The other
    -- stays in raw, and the singular test fundamentals_source_differences lists where they disagree.
    select *
    from summed
    qualify row_number() over (
        partition by company_id, metric, period_type, period_end, filed_date, currency, unit
        order by source = 'edgar' desc, source
    ) = 1

),

dated as (

    select
        *,
        coalesce(
            filed_date,
            cast(
                case period_type
                    when 'quarterly' then {{ dbt.dateadd('day', var('fundamentals_lag_days_quarterly'), 'period_end') }}
                    else {{ dbt.dateadd('day', var('fundamentals_lag_days_annual'), 'period_end') }}
                end as date
            )
        ) as available_from
    from preferred

),

with_split_factor as (

    select
        dated.*,
        coalesce(
            (
                select product(splits.split_ratio)
                from splits
                where splits.company_id = dated.company_id
                  and splits.ex_date > coalesce(dated.filed_date, dated.period_end)
            ),
            1
        ) as split_factor
    from dated

),

final as (

    select
        with_split_factor.company_id,
        with_split_factor.symbol,
        with_split_factor.metric,
        with_split_factor.period_type,
        with_split_factor.fiscal_period,
        with_split_factor.period_start,
        with_split_factor.period_end,
        with_split_factor.filed_date,
        with_split_factor.available_from,
        -- end of the publication day in the filing time zone, as UTC
        timezone(
            'UTC',
            timezone(primary_listings.exchange_timezone, cast(with_split_factor.available_from + 1 as timestamp))
        ) as published_at_utc,
        with_split_factor.filed_date is null as is_available_from_assumed,
        case with_split_factor.unit
            when 'shares' then with_split_factor.metric_value * with_split_factor.split_factor
            when 'ads'
                then with_split_factor.metric_value * with_split_factor.split_factor * ads_ratios.ordinary_shares_per_ads
            when 'per_share' then with_split_factor.metric_value / with_split_factor.split_factor
            when 'per_ads'
                then with_split_factor.metric_value / with_split_factor.split_factor / ads_ratios.ordinary_shares_per_ads
            else with_split_factor.metric_value
        end as metric_value,
        with_split_factor.metric_value as reported_value,
        with_split_factor.split_factor,
        with_split_factor.currency,
        with_split_factor.unit,
        with_split_factor.line_items_summed,
        with_split_factor.source,
        with_split_factor.loaded_at
    from with_split_factor
    inner join primary_listings on with_split_factor.company_id = primary_listings.company_id
    left join ads_ratios on with_split_factor.company_id = ads_ratios.company_id
    where with_split_factor.unit not in ('per_ads', 'ads') or ads_ratios.ordinary_shares_per_ads is not null

)

select * from final
