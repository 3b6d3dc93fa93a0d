-- Reported line items mapped to the warehouse's metrics, one row per company, metric, period and
-- filing. Several line items of one metric are summed (Alibaba's D&A comes in two lines). Each
-- figure knows from when it may be used: its filing date, or period end plus a configured lag.

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
        min(fiscal_period) as fiscal_period,
        min(period_start) as period_start,
        sum(metric_value) as metric_value,
        count(*) as line_items_summed,
        max(loaded_at) as loaded_at
    from mapped
    group by company_id, symbol, metric, period_type, period_end, filed_date, currency, unit

),

final as (

    select
        company_id,
        symbol,
        metric,
        period_type,
        fiscal_period,
        period_start,
        period_end,
        filed_date,
        coalesce(
            filed_date,
            cast(
                case period_type
                    when 'quarterly' then {{ dbt.dateadd('day', var('fundamentals_lag_days_quarterly'), 'period_end') }}
                    else {{ dbt.dateadd('day', var('fundamentals_lag_days_annual'), 'period_end') }}
                end as date
            )
        ) as available_from,
        filed_date is null as is_available_from_assumed,
        metric_value,
        currency,
        unit,
        line_items_summed,
        loaded_at
    from summed

)

select * from final
