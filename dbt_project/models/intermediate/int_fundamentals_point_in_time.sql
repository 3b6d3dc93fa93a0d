-- What was known about each company from each date it published something: the TTM flows ending
-- at the latest period end known then (null where that period has no complete TTM: a stale older
-- period is never substituted), and the latest known balance-sheet figures.
-- fct_valuation_daily joins it as of each trading date (known_from <= date).

with

ttm as (

    select * from {{ ref('int_fundamentals_ttm') }}

),

metrics as (

    select * from {{ ref('int_financial_metrics') }}

),

knowledge_dates as (

    select distinct company_id, available_from as known_from
    from metrics

),

latest_period as (

    select company_id, known_from, max(period_end) as fundamentals_period_end
    from ttm
    group by company_id, known_from

),

latest_flows as (

    select
        latest_period.company_id,
        latest_period.known_from,
        latest_period.fundamentals_period_end,
        max(ttm.currency) filter (where ttm.metric <> 'eps_diluted') as reporting_currency,
        max(ttm.currency) filter (where ttm.metric = 'eps_diluted') as eps_currency,
        max(ttm.ttm_value) filter (where ttm.metric = 'revenue') as ttm_revenue,
        max(ttm.ttm_value) filter (where ttm.metric = 'net_income') as ttm_net_income,
        max(ttm.ttm_value) filter (where ttm.metric = 'operating_income') as ttm_operating_income,
        max(ttm.ttm_value) filter (where ttm.metric = 'depreciation_amortization') as ttm_depreciation_amortization,
        max(ttm.ttm_value) filter (where ttm.metric = 'ebitda') as ttm_reported_ebitda,
        max(ttm.ttm_value) filter (where ttm.metric = 'capex') as ttm_capex,
        max(ttm.ttm_value) filter (where ttm.metric = 'eps_diluted') as ttm_eps_diluted,
        case
            when count(distinct ttm.ttm_basis) = 1 then max(ttm.ttm_basis)
            when count(distinct ttm.ttm_basis) > 1 then 'mixed'
        end as ttm_basis
    from latest_period
    left join ttm
        on latest_period.company_id = ttm.company_id
        and latest_period.known_from = ttm.known_from
        and latest_period.fundamentals_period_end = ttm.period_end
    group by latest_period.company_id, latest_period.known_from, latest_period.fundamentals_period_end

),

latest_balances as (

    select
        knowledge_dates.company_id,
        knowledge_dates.known_from,
        balances.metric,
        balances.period_end,
        balances.metric_value
    from knowledge_dates
    inner join metrics as balances
        on knowledge_dates.company_id = balances.company_id
        and balances.available_from <= knowledge_dates.known_from
        and balances.metric in ('total_debt', 'cash_and_equivalents', 'short_term_investments')
    qualify row_number() over (
        partition by knowledge_dates.company_id, knowledge_dates.known_from, balances.metric
        order by balances.period_end desc, balances.available_from desc
    ) = 1

),

balances_by_date as (

    select
        company_id,
        known_from,
        max(period_end) as balance_sheet_date,
        max(metric_value) filter (where metric = 'total_debt') as total_debt,
        max(metric_value) filter (where metric = 'cash_and_equivalents') as cash_and_equivalents,
        max(metric_value) filter (where metric = 'short_term_investments') as short_term_investments
    from latest_balances
    group by company_id, known_from

),

final as (

    select
        knowledge_dates.company_id,
        knowledge_dates.known_from,
        latest_flows.fundamentals_period_end,
        latest_flows.ttm_basis,
        latest_flows.reporting_currency,
        latest_flows.eps_currency,
        latest_flows.ttm_revenue,
        latest_flows.ttm_net_income,
        -- Reported EBITDA where the source gives it; otherwise operating income + D&A of the same window.
        coalesce(
            latest_flows.ttm_reported_ebitda,
            latest_flows.ttm_operating_income + latest_flows.ttm_depreciation_amortization
        ) as ttm_ebitda,
        latest_flows.ttm_capex,
        latest_flows.ttm_eps_diluted,
        balances_by_date.balance_sheet_date,
        balances_by_date.total_debt,
        -- Short-term investments count as cash where reported.
        balances_by_date.cash_and_equivalents + coalesce(balances_by_date.short_term_investments, 0)
            as cash_and_short_term_investments
    from knowledge_dates
    left join latest_flows
        on knowledge_dates.company_id = latest_flows.company_id
        and knowledge_dates.known_from = latest_flows.known_from
    left join balances_by_date
        on knowledge_dates.company_id = balances_by_date.company_id
        and knowledge_dates.known_from = balances_by_date.known_from

)

select * from final
