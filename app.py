"""ReviewDesk's entry point: page config, language, the login gate and role-based navigation.

The user's role and active flag are read from the database on every run, so a deactivated
user or a changed role takes effect on the next click, not at the next login. Every run
calls ``st.navigation``: a visitor who is not logged in gets the login form and nothing else
(no page listed, no page script run), whatever the address names — except the public pages of
SPEC §8 (``/hall``, ``/notice``), which run for anybody and draw no login form.
"""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from pages._shared import (
    CAMPAIGN_OF_RUN,
    PUBLIC_PAGES,
    SIGN_IN_REASON,
    address_for,
    keep_in_address,
    public_pages,
    signed_out_navigation,
)
from scoring import context
from scoring.i18n import LANGUAGES, MarkdownTranslator
from scoring.literal import markdown_literal
from scoring.services.accounts import (
    actor_for,
    login_credentials,
    record_failed_login,
    record_successful_login,
)
from scoring.settings import get_settings

COOKIE_NAME = "reviewdesk_session"

# An emoji icon, not a ":material/..." one: Streamlit fetches a material favicon from
# fonts.gstatic.com, an outside request on every page; an emoji is drawn in the browser.
st.set_page_config(page_title="ReviewDesk 评审台", page_icon="🏅", layout="wide")


@st.cache_resource
def _prepared_database(url: str):
    """Open and migrate the database once per process and URL."""
    return context.database()


def _secret_cookie_key() -> str | None:
    try:  # st.secrets raises when no secrets.toml exists at all
        return st.secrets.get("cookie_key")
    except FileNotFoundError:
        return None
    except Exception:
        return None


def _language_switch() -> MarkdownTranslator:
    current = st.query_params.get("lang", st.session_state.get("lang", get_settings().language))
    if current not in LANGUAGES:
        current = "zh"
    lang = st.sidebar.radio(
        "语言 / Language",
        list(LANGUAGES),
        index=list(LANGUAGES).index(current),
        format_func=LANGUAGES.get,
        horizontal=True,
        key="lang_switch",
    )
    st.session_state["lang"] = lang
    return MarkdownTranslator(lang)


def _authenticator(credentials: dict) -> stauth.Authenticate:
    authenticator = stauth.Authenticate(
        credentials,
        COOKIE_NAME,
        get_settings().ensure_cookie_key(_secret_cookie_key()),
        get_settings().cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )
    st.session_state["authenticator"] = authenticator
    return authenticator


def _sign_out_deactivated(database, authenticator: stauth.Authenticate) -> None:
    """A session whose account was deactivated meanwhile is signed out before the form.

    Checked before ``login()`` so that the same run draws the login form with the reason
    above it (a fragment of the old page sends its next click or refresh here as well).
    """
    if not st.session_state.get("authentication_status"):
        return
    with database.read() as session:
        actor = actor_for(session, st.session_state.get("username"))
    if actor is None:
        authenticator.logout(location="unrendered")
        st.session_state[SIGN_IN_REASON] = "login.account_inactive"


def _public_page_or_form() -> None:
    """A visitor (no login, no cookie) on a public page runs it, and no form is drawn.

    Any other address keeps its blank stand-in and gets the login form below.
    """
    page = signed_out_navigation()
    if page.url_path in PUBLIC_PAGES:
        keep_in_address({"lang": st.session_state["lang"]})
        page.run()
        st.stop()


def _login(database, translate: MarkdownTranslator) -> str | None:
    """Show the login form; returns the username once authenticated.

    When it returns None, the signed-out navigation is in place.
    """
    with database.read() as session:
        credentials = login_credentials(session)
    authenticator = _authenticator(credentials)
    _sign_out_deactivated(database, authenticator)
    notice = st.empty()  # the reason for a sign-out, above the form
    failures_before = {u: c["failed_login_attempts"] for u, c in credentials["usernames"].items()}
    signed_out = False
    try:
        authenticator.login(location="unrendered")  # the login cookie alone: no form yet
        signed_out = not st.session_state.get("authentication_status")
        if signed_out:
            _public_page_or_form()
        authenticator.login(
            location="main",
            max_login_attempts=5,
            fields={
                "Form name": translate("login.title"),
                "Username": translate("login.username"),
                "Password": translate("login.password"),
                "Login": translate("login.submit"),
            },
            callback=lambda info: database.write(
                lambda s: record_successful_login(s, info["username"])
            ),
        )
    except LoginError as error:
        # A locked account (max attempts reached) or a cookie of a removed user.
        st.session_state["authentication_status"] = None
        if "attempts" in str(error):
            st.error(translate("login.locked", minutes=15))
        else:
            authenticator.cookie_controller.delete_cookie()
            st.error(translate("login.account_inactive"))
        if not signed_out:  # raised by the cookie: the navigation is not in place yet
            signed_out_navigation()
        return None
    status = st.session_state.get("authentication_status")
    # Shown on every run until the next login attempt: the cookie's own rerun must not hide it.
    reason = st.session_state.get(SIGN_IN_REASON) if status is None else None
    if reason:
        notice.error(translate(reason))
    else:
        st.session_state.pop(SIGN_IN_REASON, None)
    if status is False:
        for username, user in credentials["usernames"].items():
            counted = user.get("failed_login_attempts", 0) > failures_before.get(username, 0)
            if counted and database.write(lambda s, u=username: record_failed_login(s, u)):
                st.error(translate("login.locked", minutes=15))
                return None
        st.error(translate("login.failed"))
    elif status is None:
        st.caption(translate("login.hint"))
    return st.session_state.get("username") if status else None


def _pages_for(role: str, translate: MarkdownTranslator) -> list[st.Page]:
    """Only the pages of the user's role; each page checks the role again itself."""
    gallery = st.Page(
        "pages/entries.py",
        title=translate("nav_review.gallery"),
        icon=":material/photo_library:",
        default=role != "organiser",
    )
    organiser = [
        st.Page(
            "pages/overview.py",
            title=translate("nav.overview"),
            icon=":material/home:",
            default=True,
        ),
        st.Page(
            "pages/setup.py",
            title=translate("nav_review.setup"),
            icon=":material/settings:",
        ),
        st.Page(
            "pages/intake.py",
            title=translate("nav_review.intake"),
            icon=":material/upload_file:",
        ),
        st.Page(
            "pages/entry_edit.py",
            title=translate("entry_edit.nav"),
            icon=":material/edit_note:",
        ),
        st.Page(
            "pages/public_admin.py",
            title=translate("public_admin.nav"),
            icon=":material/how_to_vote:",
        ),
        gallery,
        st.Page(
            "pages/materials.py",
            title=translate("materials.nav"),
            icon=":material/folder_zip:",
        ),
        st.Page(
            "pages/assign.py",
            title=translate("nav_review.assign"),
            icon=":material/assignment_ind:",
        ),
        st.Page(
            "pages/progress.py",
            title=translate("team_progress.nav"),
            icon=":material/groups:",
        ),
        st.Page(
            "pages/standings.py", title=translate("nav.standings"), icon=":material/leaderboard:"
        ),
        st.Page("pages/meeting.py", title=translate("nav_review.meeting"), icon=":material/forum:"),
        st.Page(
            "pages/finalise.py",
            title=translate("nav_review.finalise"),
            icon=":material/verified:",
        ),
        st.Page(
            "pages/announce.py",
            title=translate("nav_review.announce"),
            icon=":material/campaign:",
        ),
        st.Page("pages/users.py", title=translate("nav.users"), icon=":material/group:"),
        st.Page("pages/audit.py", title=translate("nav.audit"), icon=":material/history:"),
    ]
    reviewer = [
        gallery,
        st.Page(
            "pages/progress.py",
            title=translate("nav_review.progress"),
            icon=":material/task_alt:",
        ),
        st.Page(
            "pages/my_scores.py",
            title=translate("my_scores.nav"),
            icon=":material/fact_check:",
        ),
    ]
    common = [
        st.Page("pages/account.py", title=translate("nav.account"), icon=":material/key:"),
        st.Page(
            "pages/entry.py",
            title=translate("nav_review.entry"),
            url_path="entry",
            visibility="hidden",
        ),
    ]
    return (organiser if role == "organiser" else reviewer) + common + public_pages()


def main() -> None:
    if not st.session_state.get("gate_ready"):
        # The first run of a server process goes through Streamlit's listing of pages/ and
        # draws under another page id: a login typed into that form would be dropped. One
        # empty run per session puts the gate's own navigation in place before any widget.
        st.session_state["gate_ready"] = True
        signed_out_navigation()
        st.rerun()
    database = _prepared_database(get_settings().resolved_database_url)
    translate = _language_switch()
    st.session_state.pop(CAMPAIGN_OF_RUN, None)  # set again by the page's campaign picker
    username = _login(database, translate)
    if not username:
        keep_in_address({"lang": translate.lang})
        st.stop()
    with database.read() as session:
        actor = actor_for(session, username)
    authenticator = st.session_state["authenticator"]
    if actor is None:  # deactivated between the check in _login and now
        authenticator.logout(location="unrendered")
        st.error(translate("login.account_inactive"))
        signed_out_navigation()
        st.stop()
    st.sidebar.markdown(f"**{markdown_literal(st.session_state.get('name') or actor.username)}**")
    st.sidebar.caption(translate(f"role.{actor.role}"))
    authenticator.logout(translate("login.logout"), location="sidebar", key="logout_button")
    if not st.session_state.get("authentication_status"):
        signed_out_navigation()
        st.stop()  # let the cookie-deleting component reach the browser
    # Every page listed: Streamlit folds all past the tenth under "View N more" by default,
    # which hid the users, audit and account pages of an organiser.
    page = st.navigation(_pages_for(actor.role, translate), expanded=True)
    keep_in_address(address_for(translate.lang, actor, page.url_path))
    page.run()


main()
