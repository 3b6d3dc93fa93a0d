-- The AI capex race: trailing-twelve-month capex of the hyperscalers, in USD at each period end.
select
    companies.company_name,
    capex.fiscal_period_end,
    capex.period_type,
    capex.capex_ttm_usd,
    capex.capex_yoy_growth,
    capex.capex_to_revenue_ttm
from marts.mart_capex as capex
inner join marts.bridge_company_peer_group as groups on capex.company_id = groups.company_id
inner join marts.dim_company as companies on capex.company_id = companies.company_id
where groups.peer_group = 'hyperscalers' and capex.capex_ttm_usd is not null
order by capex.fiscal_period_end, companies.company_name
