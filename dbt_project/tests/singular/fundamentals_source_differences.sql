{{ config(severity='warn', store_failures=true, meta={'dagster': {'ref': {'name': 'int_financial_metrics'}}}) }}
-- Where an SEC filing (EDGAR) and Yahoo both give one (company, metric, period), the filing's
-- value is used (int_financial_metrics; the latest document known on a day otherwise) and Yahoo's
-- is kept. Their latest values are compared here: a difference of more than half a percent is
-- listed by company, metric and period (dbt_test__audit.fundamentals_source_differences), a warning
-- on int_financial_metrics. Yahoo's share counts through an ADS are in listing units: compare those
-- knowing it.
-- depends_on: {{ ref('int_financial_metrics') }}
with

figures as (

    select
        listings.company_id,
        metric_map.metric,
        statements.period_type,
        statements.period_end,
        statements.loaded_from_source as source,
        statements.filed_date,
        sum(statements.reported_value * metric_map.sign) as value
    from {{ ref('stg_financial_statements') }} as statements
    inner join {{ ref('line_item_metrics') }} as metric_map on statements.line_item = metric_map.line_item
    inner join {{ ref('stg_universe_listings') }} as listings on statements.symbol = listings.symbol
    where statements.loaded_from_source in ('edgar', 'yahoo')
    group by all

),

latest as (

    select
        company_id,
        metric,
        period_type,
        period_end,
        source,
        arg_max(value, coalesce(filed_date, date '1900-01-01')) as value
    from figures
    group by all

),

compared as (

    select
        filing.company_id,
        filing.metric,
        filing.period_type,
        filing.period_end,
        filing.value as edgar_value,
        yahoo.value as yahoo_value,
        yahoo.value / nullif(filing.value, 0) - 1 as relative_difference
    from latest as filing
    inner join latest as yahoo
        on filing.company_id = yahoo.company_id
        and filing.metric = yahoo.metric
        and filing.period_type = yahoo.period_type
        and filing.period_end = yahoo.period_end
        and yahoo.source = 'yahoo'
    where filing.source = 'edgar'

)

select *
from compared
where abs(yahoo_value - edgar_value) > 0.005 * greatest(abs(edgar_value), 1e-9)
