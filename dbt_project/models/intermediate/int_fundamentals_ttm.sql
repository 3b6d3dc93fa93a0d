-- Trailing-twelve-month flows per company and period end, with the date each value became known:
-- a row for every date a company published a figure that is inside the period's TTM window (the
-- period itself when first published, or a quarter of its window restated later). The TTM of a
-- period as known on date d is therefore its latest row with known_from <= d.
-- TTM = the sum of four consecutive quarters (never three), each in its latest version published
-- by known_from; where no four quarters end at a period end, a fiscal year ending there counts as
-- TTM; otherwise null. A restated quarter changes the TTM only from its filing date on.
--
-- Built as a change log, not one row per period and every later publication date: at 5,000
-- companies x 20 years that grain was 13 million mostly repeated rows and dominated the build.

with

flows as (

    -- one version per figure and publication date
    select company_id, metric, period_type, period_end, currency, available_from, metric_value
    from {{ ref('int_financial_metrics') }}
    where metric in (
        'revenue', 'net_income', 'operating_income', 'depreciation_amortization', 'ebitda', 'capex', 'eps_diluted'
    )
    qualify row_number() over (
        partition by company_id, metric, period_type, period_end, currency, available_from
        order by metric_value
    ) = 1

),

quarters as (

    -- every quarter end of a series, the three before it and the three after it
    select
        company_id,
        metric,
        currency,
        period_end,
        min(available_from) as first_known,
        lag(period_end, 1) over series as previous_1,
        lag(period_end, 2) over series as previous_2,
        lag(period_end, 3) over series as previous_3,
        lead(period_end, 1) over series as next_1,
        lead(period_end, 2) over series as next_2,
        lead(period_end, 3) over series as next_3
    from flows
    where period_type = 'quarterly'
    group by company_id, metric, currency, period_end
    window series as (partition by company_id, metric, currency order by period_end)

),

quarterly_events as (

    -- a quarter's version published on known_from touches the periods whose window holds it:
    -- itself and the three quarters after it, those already known by then
    select distinct
        versions.company_id,
        versions.metric,
        versions.currency,
        touched.period_end,
        versions.available_from as known_from
    from flows as versions
    inner join quarters as quarter
        on versions.company_id = quarter.company_id
        and versions.metric = quarter.metric
        and versions.currency = quarter.currency
        and versions.period_end = quarter.period_end
    cross join unnest([quarter.period_end, quarter.next_1, quarter.next_2, quarter.next_3]) as touched(period_end)
    inner join quarters as touched_quarter
        on versions.company_id = touched_quarter.company_id
        and versions.metric = touched_quarter.metric
        and versions.currency = touched_quarter.currency
        and touched.period_end = touched_quarter.period_end
        and touched_quarter.first_known <= versions.available_from
    where versions.period_type = 'quarterly'

),

annual_events as (

    select company_id, metric, currency, period_end, available_from as known_from
    from flows
    where period_type = 'annual'

),

events as (

    select * from quarterly_events
    union
    select * from annual_events

),

quarterly_versions as (

    select company_id, metric, currency, period_end, available_from, metric_value
    from flows
    where period_type = 'quarterly'

),

annual_versions as (

    select company_id, metric, currency, period_end, available_from, metric_value
    from flows
    where period_type = 'annual'

),

{% set window_quarters = ['period_end', 'previous_1', 'previous_2', 'previous_3'] %}

window_values as (

    -- each quarter of the window in its latest version published by known_from
    select
        events.company_id,
        events.known_from,
        events.metric,
        events.period_end,
        events.currency,
        quarter.previous_3 as window_first_period_end,
        {% for column in window_quarters %}
        value_{{ loop.index0 }}.metric_value as value_{{ loop.index0 }},
        {% endfor %}
        fiscal_year.metric_value as fiscal_year_value
    from events
    left join quarters as quarter
        on events.company_id = quarter.company_id
        and events.metric = quarter.metric
        and events.currency = quarter.currency
        and events.period_end = quarter.period_end
    {% for column in window_quarters %}
    asof left join quarterly_versions as value_{{ loop.index0 }}
        on events.company_id = value_{{ loop.index0 }}.company_id
        and events.metric = value_{{ loop.index0 }}.metric
        and events.currency = value_{{ loop.index0 }}.currency
        and quarter.{{ column }} = value_{{ loop.index0 }}.period_end
        and events.known_from >= value_{{ loop.index0 }}.available_from
    {% endfor %}
    asof left join annual_versions as fiscal_year
        on events.company_id = fiscal_year.company_id
        and events.metric = fiscal_year.metric
        and events.currency = fiscal_year.currency
        and events.period_end = fiscal_year.period_end
        and events.known_from >= fiscal_year.available_from

),

quarterly_ttm as (

    select
        *,
        -- Four quarter ends span nine months (260-290 days allows 52/53-week fiscal calendars);
        -- a missing quarter makes the span longer and the TTM null.
        case
            when value_0 is not null and value_1 is not null and value_2 is not null and value_3 is not null
                and {{ dbt.datediff('window_first_period_end', 'period_end', 'day') }} between 260 and 290
                then value_0 + value_1 + value_2 + value_3
        end as four_quarter_ttm
    from window_values

),

final as (

    select
        company_id,
        known_from,
        metric,
        period_end,
        currency,
        value_0 as quarter_value,
        coalesce(four_quarter_ttm, fiscal_year_value) as ttm_value,
        case
            when four_quarter_ttm is not null then 'four_quarters'
            when fiscal_year_value is not null then 'fiscal_year'
        end as ttm_basis
    from quarterly_ttm

)

select * from final
