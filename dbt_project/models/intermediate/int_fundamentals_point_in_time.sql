-- What was known about each company from each date it published something: for each flow, the
-- latest complete TTM known then (../shared/DESIGN.md, Time and money rules: a newer but incomplete period
-- never replaces an older complete TTM; it carries until a newer complete one is known, and
-- fct_valuation_daily drops it after `ttm_max_age_days`), and the latest balance-sheet figures.
-- fct_valuation_daily joins it as of each trading date (known_from <= date). Every "latest known
-- by then" is an ASOF join or a running window, never a join of every date to every figure before
-- it (which at 5,000 companies x 20 years ran out of 24 GiB).

with

ttm as (

    select * from {{ ref('int_fundamentals_ttm') }}

),

metrics as (

    select * from {{ ref('int_financial_metrics') }}

),

knowledge_dates as (

    select distinct company_id, available_from as known_from, published_at_utc
    from metrics

),

latest_period_by_date as (

    -- per metric, the latest period end with a complete TTM known on each date one appeared
    -- (running max): a newer period whose TTM is still incomplete never displaces it
    select distinct
        company_id,
        metric,
        currency,
        known_from,
        max(period_end) over (
            partition by company_id, metric, currency
            order by known_from range between unbounded preceding and current row
        ) as ttm_period_end
    from ttm
    where ttm_value is not null

),

flow_metrics as (

    select distinct company_id, metric, currency from ttm

),

latest_flow_values as (

    -- each metric's latest complete TTM known on the date, in its latest version known then
    select
        knowledge_dates.company_id,
        knowledge_dates.known_from,
        flow_metrics.metric,
        flow_metrics.currency,
        periods.ttm_period_end,
        ttm.ttm_value,
        ttm.ttm_basis
    from knowledge_dates
    inner join flow_metrics on knowledge_dates.company_id = flow_metrics.company_id
    asof inner join latest_period_by_date as periods
        on knowledge_dates.company_id = periods.company_id
        and flow_metrics.metric = periods.metric
        and flow_metrics.currency = periods.currency
        and knowledge_dates.known_from >= periods.known_from
    asof inner join ttm
        on knowledge_dates.company_id = ttm.company_id
        and flow_metrics.metric = ttm.metric
        and flow_metrics.currency = ttm.currency
        and periods.ttm_period_end = ttm.period_end
        and knowledge_dates.known_from >= ttm.known_from

),

latest_flows as (

    select
        company_id,
        known_from,
        -- the oldest period a headline figure comes from: the figures are "as of" no later than it
        min(ttm_period_end) filter (where metric in ('revenue', 'net_income', 'eps_diluted'))
            as fundamentals_period_end,
        max(ttm_period_end) filter (where metric in ('revenue', 'net_income', 'eps_diluted'))
            as fundamentals_latest_period_end,
        max(currency) filter (where metric not in ('eps_diluted', 'adjusted_eps_diluted')) as reporting_currency,
        max(currency) filter (where metric = 'eps_diluted') as eps_currency,
        max(ttm_value) filter (where metric = 'revenue') as ttm_revenue,
        max(ttm_value) filter (where metric = 'net_income') as ttm_net_income,
        max(ttm_value) filter (where metric = 'operating_income') as ttm_operating_income,
        max(ttm_value) filter (where metric = 'depreciation_amortization') as ttm_depreciation_amortization,
        max(ttm_value) filter (where metric = 'ebitda') as ttm_reported_ebitda,
        max(ttm_value) filter (where metric = 'capex') as ttm_capex,
        max(ttm_value) filter (where metric = 'eps_diluted') as ttm_eps_diluted,
        -- the rule that gave the headline TTMs: four_quarters or fiscal_year; mixed when they differ
        case
            when count(distinct ttm_basis) filter (where metric in ('revenue', 'net_income', 'eps_diluted')) = 1
                then max(ttm_basis) filter (where metric in ('revenue', 'net_income', 'eps_diluted'))
            when count(distinct ttm_basis) filter (where metric in ('revenue', 'net_income', 'eps_diluted')) > 1
                then 'mixed'
        end as ttm_basis
    from latest_flow_values
    group by company_id, known_from

),

adjusted_earnings as (

    -- The adjusted earnings known on each date: of the company's non-GAAP series (and Yahoo's
    -- normalized income), the one whose latest complete TTM ends latest; at one period end, a
    -- per-share figure before an amount, the company's own before the source's. One series is
    -- chosen whole, so a figure never mixes two definitions of adjusted earnings.
    select
        company_id,
        known_from,
        arg_max(
            {'metric': metric, 'currency': currency, 'ttm_value': ttm_value, 'period_end': ttm_period_end, 'ttm_basis': ttm_basis},
            [epoch(ttm_period_end), case metric
                when 'adjusted_eps_diluted' then 4
                when 'adjusted_net_income' then 3
                when 'adjusted_net_income_incl_minority_interests' then 2
                else 1
            end]
        ) as chosen
    from latest_flow_values
    where metric in ('adjusted_eps_diluted', 'adjusted_net_income', 'adjusted_net_income_incl_minority_interests', 'normalized_income')
    group by company_id, known_from

),

balance_versions as (

    -- for each date a balance figure was published: the figure of the latest period end known
    -- by then (a late restatement of an older period does not displace a newer one)
    select distinct
        company_id,
        metric,
        available_from,
        arg_max(metric_value, [epoch(period_end), epoch(available_from)]) over known_by_then as metric_value,
        max(period_end) over known_by_then as period_end
    from metrics
    where metric in ('total_debt', 'cash_and_equivalents', 'short_term_investments')
    window known_by_then as (
        partition by company_id, metric order by available_from range between unbounded preceding and current row
    )

),

balance_metrics as (

    select distinct company_id, metric from balance_versions

),

latest_balances as (

    select
        knowledge_dates.company_id,
        knowledge_dates.known_from,
        balances.metric,
        balances.period_end,
        balances.metric_value
    from knowledge_dates
    inner join balance_metrics on knowledge_dates.company_id = balance_metrics.company_id
    asof inner join balance_versions as balances
        on knowledge_dates.company_id = balances.company_id
        and balance_metrics.metric = balances.metric
        and knowledge_dates.known_from >= balances.available_from

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
        knowledge_dates.published_at_utc,
        latest_flows.fundamentals_period_end,
        latest_flows.fundamentals_latest_period_end,
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
        case adjusted_earnings.chosen.metric
            when 'adjusted_eps_diluted' then 'company_non_gaap_eps'
            when 'adjusted_net_income' then 'company_non_gaap_net_income'
            when 'adjusted_net_income_incl_minority_interests' then 'company_non_gaap_net_income_incl_minority_interests'
            when 'normalized_income' then 'source_normalized_income'
        end as adjusted_earnings_basis,
        adjusted_earnings.chosen.period_end as adjusted_period_end,
        adjusted_earnings.chosen.ttm_basis as adjusted_ttm_basis,
        adjusted_earnings.chosen.currency as adjusted_currency,
        case when adjusted_earnings.chosen.metric = 'adjusted_eps_diluted' then adjusted_earnings.chosen.ttm_value end
            as ttm_adjusted_eps_diluted,
        case when adjusted_earnings.chosen.metric <> 'adjusted_eps_diluted' then adjusted_earnings.chosen.ttm_value end
            as ttm_adjusted_net_income,
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
    left join adjusted_earnings
        on knowledge_dates.company_id = adjusted_earnings.company_id
        and knowledge_dates.known_from = adjusted_earnings.known_from

)

select * from final
