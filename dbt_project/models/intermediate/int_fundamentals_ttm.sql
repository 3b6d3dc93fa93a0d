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

    -- one version per figure and publication date; of an EPS printed both per ordinary share and
    -- per ADS (Alibaba, PDD), the one per ordinary share as printed, not the per-ADS one divided
    select company_id, metric, period_type, period_end, currency, available_from, metric_value
    from {{ ref('int_financial_metrics') }}
    where metric in (
        'revenue', 'net_income', 'operating_income', 'depreciation_amortization', 'ebitda', 'capex', 'eps_diluted',
        -- the adjusted (non-GAAP) earnings, each its own series: never summed with a reported figure
        'adjusted_eps_diluted', 'adjusted_net_income', 'adjusted_net_income_incl_minority_interests', 'normalized_income'
    )
    qualify row_number() over (
        partition by company_id, metric, period_type, period_end, currency, available_from
        order by unit = 'per_ads', metric_value
    ) = 1

),

quarter_versions as (

    -- every quarter of a series with its versions, oldest first (a struct sorts by its first field)
    select
        company_id,
        metric,
        currency,
        period_end,
        min(available_from) as first_known,
        list_sort(list({'available_from': available_from, 'metric_value': metric_value})) as versions
    from flows
    where period_type = 'quarterly'
    group by company_id, metric, currency, period_end

),

quarters as (

    -- every quarter end of a series, the three before it (with their versions) and the three after it
    select
        *,
        lag(period_end, 1) over series as previous_1,
        lag(period_end, 2) over series as previous_2,
        lag(period_end, 3) over series as previous_3,
        lag(versions, 1) over series as previous_1_versions,
        lag(versions, 2) over series as previous_2_versions,
        lag(versions, 3) over series as previous_3_versions,
        lead(period_end, 1) over series as next_1,
        lead(period_end, 2) over series as next_2,
        lead(period_end, 3) over series as next_3
    from quarter_versions
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

fiscal_years as (

    -- every fiscal year with its versions, oldest first
    select
        company_id,
        metric,
        currency,
        period_end,
        list_sort(list({'available_from': available_from, 'metric_value': metric_value})) as versions
    from flows
    where period_type = 'annual'
    group by company_id, metric, currency, period_end

),

{% set window_quarters = ['versions', 'previous_1_versions', 'previous_2_versions', 'previous_3_versions'] %}

window_values as (

    -- each quarter of the window in its latest version published by known_from: the last of its
    -- versions (oldest first) published by then. A quarter has a handful of versions at most, so
    -- this reads a short list where an ASOF join per quarter sorted every event five times.
    select
        events.company_id,
        events.known_from,
        events.metric,
        events.period_end,
        events.currency,
        quarter.previous_3 as window_first_period_end,
        {% for column in window_quarters %}
        list_filter(quarter.{{ column }}, lambda version: version.available_from <= events.known_from)[-1].metric_value
            as value_{{ loop.index0 }},
        {% endfor %}
        list_filter(fiscal_year.versions, lambda version: version.available_from <= events.known_from)[-1].metric_value
            as fiscal_year_value
    from events
    left join quarters as quarter
        on events.company_id = quarter.company_id
        and events.metric = quarter.metric
        and events.currency = quarter.currency
        and events.period_end = quarter.period_end
    left join fiscal_years as fiscal_year
        on events.company_id = fiscal_year.company_id
        and events.metric = fiscal_year.metric
        and events.currency = fiscal_year.currency
        and events.period_end = fiscal_year.period_end

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
