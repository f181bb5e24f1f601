"""The public results notice (结果公示, SPEC §8): reachable without login; built out next."""

from __future__ import annotations

import streamlit as st

st.title("结果公示 / Results notice")
