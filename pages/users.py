"""Organisers manage accounts: create, deactivate, change role, reset password."""

from pathlib import Path

import pandas as pd
import streamlit as st

from pages._shared import current_actor, require_page, run_write, t
from scoring import context
from scoring.importers.templates import XLSX, build_template, template_name
from scoring.importers.users import apply_users_import, plan_users_import
from scoring.permissions import can_manage
from scoring.services.accounts import (
    change_role,
    create_account,
    is_locked,
    list_accounts,
    reset_password,
    set_active,
)
from scoring.storage.models import ROLES

actor = current_actor()
require_page(can_manage(actor))
tr = t()
st.title(tr("users.title"))

with context.database().read() as session:
    accounts = list_accounts(session, actor)

st.dataframe(
    pd.DataFrame(
        [
            {
                tr("users.username"): a.username,
                tr("users.name"): a.display_name,
                tr("users.role"): tr(f"role.{a.role}"),
                tr("users.active"): tr("common.yes") if a.active else tr("common.no"),
                tr("users.locked"): tr("common.yes") if is_locked(a) else "",
            }
            for a in accounts
        ]
    ),
    hide_index=True,
    width="stretch",
)

left, right = st.columns(2)
with left, st.form("create_user", clear_on_submit=True):
    st.subheader(tr("users.create"))
    username = st.text_input(tr("users.username"))
    name = st.text_input(tr("users.name"))
    # No default role: an account made an organiser by a field left as it was could change
    # every result, so the role is always chosen on purpose.
    role = st.selectbox(
        tr("users.role"),
        ROLES,
        index=None,
        placeholder=tr("confirm.role_placeholder"),
        format_func=lambda r: tr(f"role.{r}"),
    )
    email = st.text_input(tr("users.email"))
    if st.form_submit_button(tr("users.create_button")):
        if role is None:
            st.error(tr("confirm.role_required"))
        else:
            ok, created = run_write(
                lambda s: create_account(
                    s, actor, username=username, display_name=name, role=role, email=email
                )
            )
            if ok:
                st.success(tr("users.created", username=created[0].username, password=created[1]))

with right:
    st.subheader(tr("users.change"))
    names = [a.username for a in accounts]
    chosen = st.selectbox(tr("users.username"), names, key="user_to_change")
    account = next((a for a in accounts if a.username == chosen), None)
    if account is not None:
        new_role = st.selectbox(
            tr("users.role"),
            ROLES,
            index=ROLES.index(account.role),
            format_func=lambda r: tr(f"role.{r}"),
            key="new_role",
        )
        cols = st.columns(3)
        if (
            cols[0].button(tr("users.apply_role"), disabled=new_role == account.role)
            and run_write(lambda s: change_role(s, actor, account.username, new_role))[0]
        ):
            st.rerun()
        label = tr("users.deactivate") if account.active else tr("users.activate")
        toggle = cols[1].button(label)
        if (
            toggle
            and run_write(lambda s: set_active(s, actor, account.username, not account.active))[0]
        ):
            st.rerun()
        if cols[2].button(tr("users.reset_password")):
            ok, password = run_write(lambda s: reset_password(s, actor, account.username))
            if ok:
                st.success(tr("users.password_reset", username=account.username, password=password))

st.subheader(tr("users.import"))
st.caption(tr("users.import_explain"))


def _users_template() -> bytes:
    """Built only when clicked; the example username is one not yet taken."""
    with context.database().read() as session:
        return build_template(session, actor, "users")


st.download_button(
    tr("templates.download"),
    data=_users_template,
    file_name=template_name("users"),
    mime=XLSX,
    key="template_users",
    on_click="ignore",
)
upload = st.file_uploader(tr("intake.workbook"), type=["xlsx", "csv"], key="users_file")
if upload is not None and st.button(tr("intake.import"), key="users_import"):
    with context.database().read() as session:  # bcrypt hashing outside the write lock
        plan = plan_users_import(session, Path(upload.name), upload.getvalue())
    ok, created = run_write(lambda s: apply_users_import(s, actor, plan))
    if ok:
        st.success(tr("cli.users_imported", count=len(created)))
        passwords = pd.DataFrame(
            [(name, tr(f"role.{role}"), password) for name, role, password in created],
            columns=[tr("users.username"), tr("users.role"), tr("users.initial_password")],
        )
        st.dataframe(passwords, hide_index=True, width="stretch")
        st.download_button(
            tr("users.download_passwords"),
            data=passwords.to_csv(index=False).encode("utf-8-sig"),
            file_name="initial-passwords.csv",
            mime="text/csv",
        )
