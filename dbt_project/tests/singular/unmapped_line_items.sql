{{ config(severity='warn', store_failures=true, meta={'dagster': {'ref': {'name': 'int_financial_metrics'}}}) }}
-- A reported line item that maps to no metric (line_item_metrics seed) never reaches a TTM or a
-- market cap. That may be right (a second net income definition) or a gap (a renamed line): either
-- way it is listed here, by company and line item, instead of vanishing: the warning on
-- int_financial_metrics counts them, and the table dbt_test__audit.unmapped_line_items names them.
-- It runs after int_financial_metrics, whose rows it explains, so that dagster-dbt attaches it there:
-- depends_on: {{ ref('int_financial_metrics') }}
select
    statements.symbol,
    statements.line_item,
    statements.unit,
    count(*) as rows_not_used,
    min(statements.period_end) as first_period_end,
    max(statements.period_end) as last_period_end
from {{ ref('stg_financial_statements') }} as statements
left join {{ ref('line_item_metrics') }} as metric_map on statements.line_item = metric_map.line_item
where metric_map.line_item is null
group by statements.symbol, statements.line_item, statements.unit
