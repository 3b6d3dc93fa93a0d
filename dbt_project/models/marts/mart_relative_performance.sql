-- Each listing's performance against its benchmark, on every trading day: returns over one week,
-- one month, the year to date and one year, the benchmark's over the same dates, the excess,
-- the drawdown from the highest close in the data and the rebound from the 52-week low.
-- Listings use the dividend-adjusted close (total return); indices their level. A window's start
-- price is the last close on or before its start date; a benchmark more than 5 days stale at
-- the listing's date gives null, never an old level.

with

listings as (

    select symbol, benchmark_symbol from {{ ref('dim_listing') }}

),

prices as (

    select
        symbol,
        trade_date,
        coalesce(adj_close_price, close_price) as performance_price
    from {{ ref('stg_prices') }}

),

listing_days as (

    select
        prices.symbol,
        listings.benchmark_symbol,
        prices.trade_date,
        prices.performance_price,
        cast({{ dbt.dateadd('day', -7, 'prices.trade_date') }} as date) as week_start,
        cast({{ dbt.dateadd('month', -1, 'prices.trade_date') }} as date) as month_start,
        cast(date_trunc('year', prices.trade_date) as date) - 1 as year_start,
        cast({{ dbt.dateadd('year', -1, 'prices.trade_date') }} as date) as one_year_start,
        max(prices.performance_price) over all_history as peak_price,
        min(prices.performance_price) over last_52_weeks as low_52w_price
    from prices
    inner join listings on prices.symbol = listings.symbol
    window
        all_history as (partition by prices.symbol order by prices.trade_date rows between unbounded preceding and current row),
        last_52_weeks as (
            partition by prices.symbol order by prices.trade_date
            range between interval 364 days preceding and current row
        )

),

benchmark_days as (

    select
        symbol,
        trade_date,
        performance_price,
        max(performance_price) over (partition by symbol order by trade_date rows between unbounded preceding and current row)
            as peak_price
    from prices
    where symbol in (select benchmark_symbol from listings)

),

{% set windows = ['week', 'month', 'year', 'one_year'] %}

with_starts as (

    select
        listing_days.*,
        {% for window in windows %}
        listing_{{ window }}.performance_price as listing_{{ window }}_start_price,
        benchmark_{{ window }}.performance_price as benchmark_{{ window }}_start_price,
        {% endfor %}
        benchmark_now.trade_date as benchmark_date,
        benchmark_now.performance_price as benchmark_price,
        benchmark_now.peak_price as benchmark_peak_price
    from listing_days
    {% for window in windows %}
    asof left join prices as listing_{{ window }}
        on listing_days.symbol = listing_{{ window }}.symbol
        and listing_days.{{ window }}_start >= listing_{{ window }}.trade_date
    asof left join prices as benchmark_{{ window }}
        on listing_days.benchmark_symbol = benchmark_{{ window }}.symbol
        and listing_days.{{ window }}_start >= benchmark_{{ window }}.trade_date
    {% endfor %}
    asof left join benchmark_days as benchmark_now
        on listing_days.benchmark_symbol = benchmark_now.symbol
        and listing_days.trade_date >= benchmark_now.trade_date

),

returns as (

    select
        symbol,
        trade_date,
        benchmark_symbol,
        performance_price,
        case when {{ dbt.datediff('benchmark_date', 'trade_date', 'day') }} <= 5 then benchmark_price end as benchmark_level,
        {% for window in windows %}
        performance_price / listing_{{ window }}_start_price - 1 as listing_{{ window }}_return,
        case
            when {{ dbt.datediff('benchmark_date', 'trade_date', 'day') }} <= 5
                then benchmark_price / benchmark_{{ window }}_start_price - 1
        end as benchmark_{{ window }}_return,
        {% endfor %}
        performance_price / peak_price - 1 as drawdown_from_peak,
        performance_price / low_52w_price - 1 as rebound_from_52w_low,
        case
            when {{ dbt.datediff('benchmark_date', 'trade_date', 'day') }} <= 5
                then benchmark_price / benchmark_peak_price - 1
        end as benchmark_drawdown_from_peak
    from with_starts

),

final as (

    select
        symbol,
        trade_date as as_of_date,
        benchmark_symbol,
        performance_price as adjusted_close,
        benchmark_level,
        listing_week_return as return_1w,
        listing_month_return as return_1m,
        listing_year_return as return_ytd,
        listing_one_year_return as return_1y,
        benchmark_week_return as benchmark_return_1w,
        benchmark_month_return as benchmark_return_1m,
        benchmark_year_return as benchmark_return_ytd,
        benchmark_one_year_return as benchmark_return_1y,
        listing_week_return - benchmark_week_return as excess_return_1w,
        listing_month_return - benchmark_month_return as excess_return_1m,
        listing_year_return - benchmark_year_return as excess_return_ytd,
        listing_one_year_return - benchmark_one_year_return as excess_return_1y,
        drawdown_from_peak,
        rebound_from_52w_low,
        benchmark_drawdown_from_peak
    from returns

)

select * from final
