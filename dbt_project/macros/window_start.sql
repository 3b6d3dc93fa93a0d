{#
    The one way mart_relative_performance finds where a return window starts, for listings and
    benchmarks alike: the last value on or before the row's date less the window. Both series are
    calendar-day series (a day without a price carries the latest earlier one forward), so that
    value is a number of rows back: a `lag` over `by_day` (a named window: partition by the
    series, order by its calendar date), which every look-back shares. `lag` past the series'
    first day gives null, as a start before the data should. (RANGE frames over the trading days
    gave the same values at about three times the cost.) `window` is one of return_windows(); the
    year to date starts at the last value of the previous calendar year.
#}

{% macro return_windows() -%}
    {{ return(['1w', '1m', 'ytd', '1y']) }}
{%- endmacro %}


{% macro window_start(value, by_day, date_column, window) -%}
    {#- A month and a year back are 28-31 and 365-366 days: a `case` over a `lag` of each constant
        offset. A `lag` whose offset is computed per row cost more than the four and two `lag`s
        (5,000 listings x 20 years, mart_relative_performance alone 22.4 -> 19.6 s, the same rows);
        the year to date's offset (1-366 days) stays computed, where a constant measured no faster. -#}
    {%- if window == '1w' -%}
    lag({{ value }}, 7) over {{ by_day }}
    {%- elif window == 'ytd' -%}
    lag({{ value }}, dayofyear({{ date_column }})) over {{ by_day }}
    {%- else -%}
    {%- set interval, offsets = {'1m': ('1 month', [28, 29, 30, 31]), '1y': ('1 year', [365, 366])}[window] -%}
    case {{ date_column }} - cast({{ date_column }} - interval {{ interval }} as date)
        {%- for days in offsets %} when {{ days }} then lag({{ value }}, {{ days }}) over {{ by_day }}{% endfor %}
    end
    {%- endif -%}
{%- endmacro %}
