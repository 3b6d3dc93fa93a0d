"""The re-rating dashboard: `make dashboard` (Streamlit on 127.0.0.1), reading the serving copy.

The layout only: the data and the charts come from dashboard/charts.py. The as-of date and the
currency are in the URL too (?as_of=2025-02-14&currency=HKD), so a view can be linked to.
"""

import altair as alt
import streamlit as st

from dashboard import charts as dash
from orchestration.settings import serving_path

SERVING = serving_path()

st.set_page_config(page_title="Is the market re-rating Chinese tech?", layout="wide")
st.title("Is the market re-rating Chinese tech against the US megacaps?")

if not SERVING.exists():
    st.error(f"No serving copy at {SERVING}: run `make demo` (or `make run`) first.")
    st.stop()

frames = dash.load(SERVING)  # a fresh read-only connection on each rerun: a new publication shows at once
first, last = dash.date_range(frames)
picked_date, picked_currency, _ = st.columns([1, 1, 3])
default = dash.default_as_of(frames)
as_of = picked_date.date_input("As of", value=default, min_value=first, max_value=last, format="YYYY-MM-DD",
                               key="as_of", bind="query-params",
                               help="Defaults to the latest day every series below still has data.") or default  # fmt: skip
currency = picked_currency.selectbox("Market caps in", dash.CURRENCIES, key="currency", bind="query-params")
st.caption(dash.series_ends_caption(frames))

peer_rows = dash.peers(SERVING, as_of)
figures = dash.charts(frames, peer_rows, as_of, currency)

for name, figure in figures.items():
    if figure.data.empty:
        st.warning(f"{name}: no data in the serving copy up to {as_of}")
    compound = isinstance(figure, (alt.FacetChart, alt.VConcatChart))
    st.altair_chart(figure, width="content" if compound else "stretch")  # a faceted or stacked chart keeps its width
    if name == "peer_pe":
        st.subheader(f"Peers as of {as_of}: each company on its group's latest trading day up to then")
        st.table(dash.peer_table(peer_rows, currency), hide_index=True)
        st.caption(f"Group median P/E (n of m): over n of the group's m companies, those with a P/E that day; {dash.MEDIAN_RULE} (—).")

st.subheader("Data freshness (trading sessions of each exchange)")
day = st.column_config.DateColumn(format="YYYY-MM-DD")  # dates, not midnight timestamps
st.dataframe(frames["data_freshness"], width="stretch", hide_index=True,
             column_config={"last_data_date": day, "expected_data_date": day})  # fmt: skip
