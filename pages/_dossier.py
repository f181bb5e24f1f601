"""One entry's dossier PDF as a download button: the materials page and the entry page draw it.

The PDF is built only when the button is pressed (``download_button(data=callable)``), from a
plan that the service authorises again at that moment: a reviewer whose assignment was taken
away since the page was drawn gets nothing.
"""

from __future__ import annotations

import streamlit as st

from pages._shared import t
from scoring import context
from scoring.permissions import Actor
from scoring.services.materials import dossier_pdf_bytes, download_name, plan_dossier
from scoring.storage.models import Campaign


def dossier_button(actor: Actor, campaign: Campaign, code: str | None, key: str) -> None:
    """The button for ``code``'s dossier (disabled without a code)."""
    tr = t()

    def build() -> bytes:
        store = context.asset_store()
        with context.database().read() as session:
            plan = plan_dossier(session, actor, campaign, code, store)
        return dossier_pdf_bytes(plan, tr.lang)

    st.download_button(
        tr("materials.dossier_button"),
        data=build,
        file_name=download_name(campaign.slug, f"{code}.pdf"),
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        disabled=code is None,
        key=key,
    )
