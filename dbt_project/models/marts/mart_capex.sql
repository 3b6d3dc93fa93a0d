-- Capital expenditure per company and fiscal period end: the quarter, the trailing twelve
-- months, its growth on a year earlier and its share of revenue. The latest published version of
-- each figure. USD amounts use the FX rate of the period end; growth and the revenue share are
-- computed in the reporting currency, so FX moves do not show up as capex growth.

with

latest_versions as (

    select *
    from {{ ref('int_fundamentals_ttm') }}
    where metric in ('capex', 'revenue')
    qualify row_number() over (partition by company_id, metric, period_end order by known_from desc) = 1

),

capex as (

    select company_id, period_end, currency, quarter_value, ttm_value, ttm_basis
    from latest_versions
    where metric = 'capex'

),

revenue as (

    select company_id, period_end, currency, ttm_value
    from latest_versions
    where metric = 'revenue'

),

with_prior_year as (

    select
        capex.*,
        revenue.ttm_value as revenue_ttm,
        prior_year.ttm_value as prior_year_ttm
    from capex
    left join revenue
        on capex.company_id = revenue.company_id
        and capex.period_end = revenue.period_end
        and capex.currency = revenue.currency
    left join capex as prior_year
        on capex.company_id = prior_year.company_id
        and capex.currency = prior_year.currency
        and prior_year.period_end between {{ dbt.dateadd('day', -375, 'capex.period_end') }}
            and {{ dbt.dateadd('day', -355, 'capex.period_end') }}

),

final as (

    select
        with_prior_year.company_id,
        with_prior_year.period_end as fiscal_period_end,
        case when with_prior_year.quarter_value is not null then 'quarter' else 'fiscal_year' end as period_type,
        with_prior_year.currency as reporting_currency,
        with_prior_year.ttm_value as capex_ttm_reporting_currency,
        with_prior_year.quarter_value / fx.units_per_usd as capex_quarter_usd,
        with_prior_year.ttm_value / fx.units_per_usd as capex_ttm_usd,
        with_prior_year.ttm_basis,
        with_prior_year.ttm_value / with_prior_year.prior_year_ttm - 1 as capex_yoy_growth,
        with_prior_year.ttm_value / nullif(with_prior_year.revenue_ttm, 0) as capex_to_revenue_ttm
    from with_prior_year
    left join {{ ref('int_fx_rates_daily') }} as fx
        on with_prior_year.period_end = fx.rate_date
        and with_prior_year.currency = fx.currency

)

select * from final
