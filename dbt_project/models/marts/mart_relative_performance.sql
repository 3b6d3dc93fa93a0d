{{ incremental_mart(unique_key=['symbol', 'as_of_date'], retired_column='symbol', kept_in='dim_listing') }}

-- depends_on: {{ ref('stg_universe_listings') }}

-- Each listing's performance against its benchmark, on every trading day: returns over one week,
-- one month, the year to date and one year, the benchmark's over the same dates, the excess,
-- the drawdown from the highest close in the data and the rebound from the 52-week low.
-- Listings use the dividend-adjusted close (total return); indices their level. A window's start
-- price is the last close on or before its start date; a benchmark more than 5 days stale at
-- the listing's date gives null, never an old level.
--
-- Every window's start, the listing's and the benchmark's, is found one way (macros/window_start.sql):
-- a `lag` over one sort of each series as a calendar-day series (every day, the latest price
-- carried forward). No join of the price history to itself.
-- Incremental (macros/incremental_marts.sql), like fct_valuation_daily: each run rebuilds per
-- symbol from the earliest date any input changed since the last build (plus
-- `valuation_rebuild_lookback_days`); the look-backs read a year of history before that, and the
-- peak the history before that year.

{# The longest look-back is a year; the slack covers a suspension of up to five weeks at its start
   (a longer one leaves that start price null in an incremental run, never a wrong one). #}
{% set lookback_days = 400 %}

with

listings as (

    select symbol, benchmark_symbol from {{ ref('dim_listing') }}

),

prices as not materialized (

    -- read by four CTEs: inlined in each, the scan keeps their filters (written out once, every
    -- price of the history was copied first: 5,000 x 20 alone, full 11.3 -> 10.6 s, a day's
    -- refresh 1.5 -> 0.9 s, the same rows)
    select
        symbol,
        date,
        -- the adjusted close only: a traded close in its place would mix two bases in one series
        adj_close_price as performance_price,
        loaded_at
    from {{ ref('stg_prices') }}

),

rebuild_from as (

    {% call rebuild_from('listings', 'as_of_date') %}
    -- prices loaded since the last build: the listing's own, or its benchmark's
    select inputs.symbol, min(prices.date)
    from prices
    inner join (
        select symbol, symbol as input_symbol from listings
        union all
        select symbol, benchmark_symbol from listings
    ) as inputs on prices.symbol = inputs.input_symbol
    where prices.loaded_at > {{ last_build_at() }}
    group by inputs.symbol
    {% endcall %}

),

listing_keys as (

    -- each listing to rebuild, numbered: the windows below sort and carry only this number, the
    -- date and the prices, and the listing's names join back once its rows are computed (at 5,000
    -- listings x 20 years, 27.8 -> 21.9 s against the windows carrying the symbols along)
    select
        listings.symbol,
        listings.benchmark_symbol,
        rebuild_from.rebuild_from,
        row_number() over (order by listings.symbol) as listing_key
    from listings
    inner join rebuild_from on listings.symbol = rebuild_from.symbol

),

history as (

    -- the rows to rebuild, and the year before them that their look-backs read
    select
        listing_keys.listing_key,
        prices.date,
        prices.performance_price
    from prices
    inner join listing_keys on prices.symbol = listing_keys.symbol
    where prices.date >= listing_keys.rebuild_from - {{ lookback_days }}

),

earlier_peaks as (

    -- the highest price before the history read above (none on a full build)
    select listing_keys.listing_key, max(prices.performance_price) as earlier_peak_price
    from prices
    inner join listing_keys on prices.symbol = listing_keys.symbol
    where prices.date < listing_keys.rebuild_from - {{ lookback_days }}
    group by listing_keys.listing_key

),

year_blocks as (

    -- per listing and calendar year of the history read: its first trading day, the first trading
    -- day of the next year in the history and the highest price before the year (the years before
    -- it read here, and the history before those)
    select
        years.listing_key,
        years.year,
        lead(years.first_date) over by_year as next_year_first_date,
        greatest(
            max(years.year_peak_price) over (by_year rows between unbounded preceding and 1 preceding),
            earlier_peaks.earlier_peak_price
        ) as peak_before_year
    from (
        select listing_key, year(date) as year, min(date) as first_date, max(performance_price) as year_peak_price
        from history
        group by listing_key, year(date)
    ) as years
    left join earlier_peaks on years.listing_key = earlier_peaks.listing_key
    window by_year as (partition by years.listing_key order by years.year)

),

spans as (

    -- each trading day, the next one and the peak so far. The running max is taken within a
    -- calendar year (joined with the years before): over a listing's whole history it cost about
    -- twice as much (a wider window frame). The same one sort serves the next trading day.
    select
        history.*,
        coalesce(lead(history.date) over by_year, year_blocks.next_year_first_date) as next_date,
        greatest(
            max(history.performance_price) over (by_year rows between unbounded preceding and current row),
            year_blocks.peak_before_year
        ) as peak_price
    from history
    inner join year_blocks on history.listing_key = year_blocks.listing_key and year(history.date) = year_blocks.year
    window by_year as (partition by history.listing_key, year(history.date) order by history.date)

),

history_days as (

    -- every calendar day of each listing's history: a trading day's price and peak hold until the next one
    select
        spans.listing_key,
        cast(days.day as date) as date,
        spans.performance_price,
        spans.peak_price,
        spans.date = cast(days.day as date) as is_trading_day
    from spans
    cross join unnest(generate_series(spans.date, coalesce(spans.next_date - 1, spans.date), interval 1 day))
        as days(day)

),

listing_days as (

    -- Every look-back is a lag or a frame of one window (macros/window_start.sql): one sort serves them all.
    -- The 52-week low reads trading days only.
    select
        history_days.*,
        {% for window in return_windows() %}
        {{ window_start('performance_price', 'by_day', 'date', window) }} as start_price_{{ window }},
        {% endfor %}
        min(case when is_trading_day then performance_price end)
            over (by_day rows between 364 preceding and current row) as low_52w_price
    from history_days
    window by_day as (partition by listing_key order by date)

),

benchmark_prices as (

    select prices.symbol, prices.date, prices.performance_price
    from prices
    where prices.symbol in (select benchmark_symbol from listings)

),

benchmark_calendar as (

    -- every calendar day of each benchmark's history
    select
        benchmarks.symbol,
        cast(day as date) as calendar_date
    from (
        select symbol, min(date) as first_date, max(date) as last_date
        from benchmark_prices
        group by symbol
    ) as benchmarks
    cross join generate_series(benchmarks.first_date, benchmarks.last_date + 7, interval 1 day) as days(day)

),

benchmark_levels as (

    -- on each calendar day: the benchmark's latest level
    select
        calendar.symbol,
        calendar.calendar_date,
        now.date as level_date,
        now.performance_price as level
    from benchmark_calendar as calendar
    asof left join benchmark_prices as now
        on calendar.symbol = now.symbol and calendar.calendar_date >= now.date

),

benchmark_by_day as (

    -- on each calendar day: the latest level, its peak so far and its level at each window's start
    select
        symbol,
        calendar_date,
        level_date,
        level,
        max(level) over (by_day rows between unbounded preceding and current row) as peak_level,
        {% for window in return_windows() %}
        {{ window_start('level', 'by_day', 'calendar_date', window) }} as start_level_{{ window }},
        {% endfor %}
    from benchmark_levels
    window by_day as (partition by symbol order by calendar_date)

),

with_benchmark as (

    select
        listing_days.*,
        listing_keys.symbol,
        listing_keys.benchmark_symbol,
        benchmark.level_date as benchmark_date,
        benchmark.level as benchmark_price,
        benchmark.peak_level as benchmark_peak_price,
        {% for window in return_windows() %}
        benchmark.start_level_{{ window }},
        {% endfor %}
    from listing_days
    inner join listing_keys on listing_days.listing_key = listing_keys.listing_key
    left join benchmark_by_day as benchmark
        on listing_keys.benchmark_symbol = benchmark.symbol
        and listing_days.date = benchmark.calendar_date
    where listing_days.is_trading_day and listing_days.date >= listing_keys.rebuild_from

),

returns as (

    select
        symbol,
        date,
        benchmark_symbol,
        performance_price,
        {{ dbt.datediff('benchmark_date', 'date', 'day') }} <= 5 as benchmark_is_current,
        {% for window in return_windows() %}
        performance_price / start_price_{{ window }} - 1 as return_{{ window }},
        benchmark_price / start_level_{{ window }} - 1 as benchmark_return_{{ window }},
        {% endfor %}
        performance_price / peak_price - 1 as drawdown_from_peak,
        performance_price / low_52w_price - 1 as rebound_from_52w_low,
        benchmark_price / benchmark_peak_price - 1 as benchmark_drawdown_from_peak,
        benchmark_price
    from with_benchmark

),

final as (

    select
        symbol,
        date as as_of_date,
        benchmark_symbol,
        performance_price as adjusted_close,
        case when benchmark_is_current then benchmark_price end as benchmark_level,
        {% for window in return_windows() %}
        return_{{ window }},
        {% endfor %}
        {% for window in return_windows() %}
        case when benchmark_is_current then benchmark_return_{{ window }} end as benchmark_return_{{ window }},
        {% endfor %}
        {% for window in return_windows() %}
        return_{{ window }} - case when benchmark_is_current then benchmark_return_{{ window }} end
            as excess_return_{{ window }},
        {% endfor %}
        drawdown_from_peak,
        rebound_from_52w_low,
        case when benchmark_is_current then benchmark_drawdown_from_peak end as benchmark_drawdown_from_peak,
        timezone('UTC', current_timestamp) as built_at
    from returns

)

select * from final
