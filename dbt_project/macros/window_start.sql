{#
    The one way mart_relative_performance finds where a return window starts, for listings and
    benchmarks alike: the last value on or before the row's date less the window (an ASOF
    lookup), read as a frame of `by_window` (a named window: partition by the series, order by its
    date cast to a timestamp, which interval frames need), so every look-back shares one sort.
    The rows are a listing's trading days or a benchmark's calendar days. `window` is one of
    return_windows(); the year to date starts at the last value of the previous calendar year.
#}

{% macro return_windows() -%}
    {{ return(['1w', '1m', 'ytd', '1y']) }}
{%- endmacro %}


{% macro window_start(value, by_window, date_column, window) -%}
    {%- set length = {
        '1w': 'interval 7 days',
        '1m': 'interval 1 month',
        'ytd': 'to_days(dayofyear(' ~ date_column ~ '))',
        '1y': 'interval 1 year',
    }[window] -%}
    last_value({{ value }}) over ({{ by_window }} range between unbounded preceding and {{ length }} preceding)
{%- endmacro %}
