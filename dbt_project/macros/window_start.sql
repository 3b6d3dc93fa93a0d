{#
    The one way mart_relative_performance finds where a return window starts, for listings and
    benchmarks alike: the last value on or before the row's date less the window. Both series are
    calendar-day series (a day without a price carries the latest earlier one forward), so that
    value is a fixed number of rows back: a `lag` over `by_day` (a named window: partition by the
    series, order by its calendar date), which every look-back shares. `lag` past the series'
    first day gives null, as a start before the data should. (RANGE frames over the trading days
    gave the same values at about three times the cost.) `window` is one of return_windows(); the
    year to date starts at the last value of the previous calendar year.
#}

{% macro return_windows() -%}
    {{ return(['1w', '1m', 'ytd', '1y']) }}
{%- endmacro %}


{% macro window_start(value, by_day, date_column, window) -%}
    {%- set days_back = {
        '1w': '7',
        '1m': date_column ~ ' - cast(' ~ date_column ~ ' - interval 1 month as date)',
        'ytd': 'dayofyear(' ~ date_column ~ ')',
        '1y': date_column ~ ' - cast(' ~ date_column ~ ' - interval 1 year as date)',
    }[window] -%}
    lag({{ value }}, {{ days_back }}) over {{ by_day }}
{%- endmacro %}
