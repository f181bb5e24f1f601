"""Every user's own account: who they are, and changing their password."""

import streamlit as st

from pages._shared import current_actor, run_write, t
from scoring.services.accounts import change_own_password

actor = current_actor()
tr = t()
st.title(tr("account.title"))
st.write(tr("account.signed_in_as", username=actor.username, role=tr(f"role.{actor.role}")))

with st.form("change_password", clear_on_submit=True):
    st.subheader(tr("account.change_password"))
    current = st.text_input(tr("account.current_password"), type="password")
    new = st.text_input(tr("account.new_password"), type="password")
    repeat = st.text_input(tr("account.repeat_password"), type="password")
    if st.form_submit_button(tr("account.save")):
        if new != repeat:
            st.error(tr("account.passwords_differ"))
        else:
            run_write(lambda s: change_own_password(s, actor, current, new), "account.saved")
