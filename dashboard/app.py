"""The re-rating dashboard: `make dashboard` (Streamlit on 127.0.0.1), reading the serving copy."""

import streamlit as st

from dashboard.charts import charts, load
from orchestration.settings import serving_path

SERVING = serving_path()

st.set_page_config(page_title="Is the market re-rating Chinese tech?", layout="wide")
st.title("Is the market re-rating Chinese tech against the US megacaps?")

if not SERVING.exists():
    st.error(f"No serving copy at {SERVING}: run `make demo` (or `make run`) first.")
    st.stop()

frames = load(SERVING)  # a fresh read-only connection on each rerun: a new publication shows at once
for name, chart in charts(frames).items():
    if frames[name].empty:
        st.warning(f"{name}: no data in the serving copy")
    st.altair_chart(chart, use_container_width=True)

st.subheader("Data freshness (trading sessions of each exchange)")
st.dataframe(frames["data_freshness"], use_container_width=True, hide_index=True)
