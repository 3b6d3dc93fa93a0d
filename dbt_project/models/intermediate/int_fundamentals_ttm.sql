-- Trailing-twelve-month flows per company and period end, as known on each date the company
-- published something. TTM = the sum of four consecutive quarters (never three); where no four
-- quarters end at a period end, a fiscal year ending there counts as TTM; otherwise null.
-- Keeping every knowledge date makes restatements point-in-time: a figure restated in a later
-- filing changes the TTM only from that filing's date on.

with

metrics as (

    select * from {{ ref('int_financial_metrics') }}

),

flows as (

    select company_id, metric, period_type, period_end, available_from, metric_value, currency
    from metrics
    where metric in (
        'revenue', 'net_income', 'operating_income', 'depreciation_amortization', 'ebitda', 'capex', 'eps_diluted'
    )

),

knowledge_dates as (

    select distinct company_id, available_from as known_from
    from metrics

),

known_versions as (

    -- The latest version of each figure published on or before each knowledge date. Periods
    -- ending more than 550 days before the date cannot be in its latest TTM window.
    select
        knowledge_dates.company_id,
        knowledge_dates.known_from,
        flows.metric,
        flows.period_type,
        flows.period_end,
        flows.metric_value,
        flows.currency
    from knowledge_dates
    inner join flows
        on knowledge_dates.company_id = flows.company_id
        and flows.available_from <= knowledge_dates.known_from
        and flows.period_end >= {{ dbt.dateadd('day', -550, 'knowledge_dates.known_from') }}
    qualify row_number() over (
        partition by knowledge_dates.company_id, knowledge_dates.known_from, flows.metric,
            flows.period_type, flows.period_end
        order by flows.available_from desc
    ) = 1

),

quarter_windows as (

    select
        company_id,
        known_from,
        metric,
        period_end,
        currency,
        metric_value as quarter_value,
        sum(metric_value) over last_four as four_quarter_sum,
        count(*) over last_four as quarters_in_window,
        min(period_end) over last_four as window_first_period_end
    from known_versions
    where period_type = 'quarterly'
    window last_four as (
        partition by company_id, known_from, metric, currency
        order by period_end
        rows between 3 preceding and current row
    )

),

quarterly_ttm as (

    select
        company_id,
        known_from,
        metric,
        period_end,
        currency,
        quarter_value,
        -- Four quarter ends span nine months (260-290 days allows 52/53-week fiscal calendars);
        -- a gap makes the span longer and the TTM null.
        case
            when quarters_in_window = 4
                and {{ dbt.datediff('window_first_period_end', 'period_end', 'day') }} between 260 and 290
                then four_quarter_sum
        end as four_quarter_ttm
    from quarter_windows

),

fiscal_years as (

    select company_id, known_from, metric, period_end, currency, metric_value as fiscal_year_value
    from known_versions
    where period_type = 'annual'

),

final as (

    select
        company_id,
        known_from,
        metric,
        period_end,
        currency,
        quarterly_ttm.quarter_value,
        coalesce(quarterly_ttm.four_quarter_ttm, fiscal_years.fiscal_year_value) as ttm_value,
        case
            when quarterly_ttm.four_quarter_ttm is not null then 'four_quarters'
            when fiscal_years.fiscal_year_value is not null then 'fiscal_year'
        end as ttm_basis
    from quarterly_ttm
    full outer join fiscal_years using (company_id, known_from, metric, period_end, currency)

)

select * from final
