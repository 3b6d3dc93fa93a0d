-- Alibaba in Hong Kong (9988.HK) and New York (BABA) against the Hang Seng since the start of
-- 2024: growth of 1 (total return for the listings, the index level for ^HSI), and each day's
-- drawdown from the peak in the data and rebound from the 52-week low.
with series as (
    select symbol as series, as_of_date as date, adjusted_close as level, drawdown_from_peak, rebound_from_52w_low
    from marts.mart_relative_performance
    where symbol in ('9988.HK', 'BABA') and as_of_date >= date '2024-01-01'
    union all
    select benchmark_symbol, as_of_date, benchmark_level, benchmark_drawdown_from_peak, null
    from marts.mart_relative_performance
    where symbol = '9988.HK' and as_of_date >= date '2024-01-01' and benchmark_level is not null
)
select
    series,
    date,
    level / first_value(level) over (partition by series order by date) as growth_of_1,
    drawdown_from_peak,
    rebound_from_52w_low
from series
order by series, date
