"""The entry page's layout on every screen, and the browser side of "nothing typed is lost".

Streamlit lays two columns side by side down to 640 px and stacks them in source order
below, which put the sheet under the images and the materials on a phone (2,900 px down).
The styles here, aimed at the keyed containers of ``pages/entry.py`` and
``pages/entries.py``, put the sheet first on a phone or a tablet, keep it in view beside the
material on a desktop, and turn the gallery's wall of cards into a compact list on a phone.

The script drawn by ``leave_guard`` asks before the tab is closed or reloaded while the
sheet holds changes that are not stored, and hands a value to the server after a pause in
typing (a Streamlit box sends what was typed only when it is left or Enter is pressed).
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

SHEET_KEY = "score_side"
"""Key of the container holding the sheet column's content (CSS class ``st-key-score_side``)."""

MATERIAL_KEY = "entry_material"
GALLERY_KEY = "gallery_cards"

STACKED_BELOW_PX = 1024
"""Under this width the page is one column, the sheet first (a phone, a tablet upright)."""

TYPING_PAUSE_MS = 2000
"""After this long without a keystroke the value typed is handed to the server (autosave)."""

_SHEET_COLUMN = f'[data-testid="stColumn"]:has(.st-key-{SHEET_KEY})'
_ENTRY_ROW = (
    f'[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .st-key-{SHEET_KEY})'
)
"""The row of the two columns (``:has`` does not nest, hence the descendant form)."""

_ENTRY_CSS = f"""
<style>
@media (max-width: {STACKED_BELOW_PX - 0.02}px) {{
  {_ENTRY_ROW} {{ flex-direction: column; flex-wrap: nowrap; }}
  {_ENTRY_ROW} > [data-testid="stColumn"] {{
    width: 100% !important; min-width: 100% !important; flex: 1 1 auto !important;
  }}
  {_ENTRY_ROW} > {_SHEET_COLUMN} {{ order: -1; }}
}}
@media (max-width: 640px) {{
  [data-testid="stMainBlockContainer"] {{ padding-top: 3.5rem; }}
  [data-testid="stMain"] h1 {{ font-size: 1.75rem; }}
}}
@media (min-width: {STACKED_BELOW_PX}px) {{
  {_ENTRY_ROW} {{ align-items: flex-start; }}
  {_ENTRY_ROW} > {_SHEET_COLUMN} {{
    position: sticky; top: 4rem; align-self: flex-start;
    max-height: calc(100vh - 5rem); overflow-y: auto; overscroll-behavior: contain;
    padding-right: 0.25rem;
  }}
}}
.st-key-{MATERIAL_KEY} [data-testid="stImage"] img {{ max-height: 70vh; object-fit: contain; }}
.st-key-sheet_guard {{ display: none; }}
</style>
"""

_CARD = f'.st-key-{GALLERY_KEY} [class*="st-key-card_"]'

_GALLERY_CSS = f"""
<style>
@media (max-width: 640px) {{
  .st-key-{GALLERY_KEY} [data-testid="stColumn"]:not(:has([data-testid="stPageLink"])) {{
    display: none;
  }}
  .st-key-{GALLERY_KEY} [data-testid="stHorizontalBlock"] {{ gap: 0.5rem; }}
  {_CARD} {{
    display: grid; grid-template-columns: 96px 1fr; column-gap: 0.75rem; row-gap: 0.1rem;
    align-items: start; padding: 0.5rem;
  }}
  {_CARD} > * {{ grid-column: 2; min-width: 0; }}
  {_CARD} > :first-child {{ grid-column: 1; grid-row: 1 / span 5; }}
  {_CARD} > :first-child img {{ width: 96px; height: 72px; object-fit: cover; }}
}}
</style>
"""

_GUARD_JS = """
<script>
(() => {
  if (window.__reviewdeskSheetGuard) return;
  const guard = window.__reviewdeskSheetGuard = {lastInput: 0, lastCommit: 0, timer: null};
  const inSheet = (node) => node && node.closest && node.closest(".st-key-%(sheet)s");
  // Unstored: what the server holds differs from the stored sheet (the marker drawn by the
  // sheet's last run says so), or a keystroke since the last hand-over is not there yet.
  const dirty = () => {
    const marker = document.querySelector("[data-reviewdesk-sheet-dirty]");
    if (!marker || !document.querySelector(".st-key-%(sheet)s")) return false;
    return marker.dataset.reviewdeskSheetDirty === "true" || guard.lastInput > guard.lastCommit;
  };
  window.addEventListener("beforeunload", (event) => {
    if (dirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!inSheet(field)) return;
    guard.lastInput = Date.now();
    clearTimeout(guard.timer);
    guard.timer = setTimeout(() => {
      if (document.activeElement !== field || !field.isConnected) return;
      // Leaving the box hands its value to the server; the caret comes straight back.
      const start = field.selectionStart, end = field.selectionEnd;
      field.blur();
      field.focus({preventScroll: true});
      try { field.setSelectionRange(start, end); } catch (error) { /* number boxes */ }
    }, %(pause)d);
  }, true);
  const committed = (event) => {
    if (inSheet(event.target)) guard.lastCommit = Date.now();
  };
  document.addEventListener("focusout", committed, true);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter") committed(event);
  }, true);
})();
</script>
"""


_PDF_FIT_JS = f"""
<script>
(() => {{
  // streamlit-pdf draws each page at its own size in a shadow root, wider than a phone or
  // a column; these rules fit the pages to the viewer's width (its height stays scrolled).
  const rules = `
    [class*="_virtualItem_"] {{ width: 100% !important; left: 0 !important; }}
    [class*="_pdfPage_"] {{ min-width: 0 !important; }}
    [class*="_pdfPage_"] canvas {{ width: 100% !important; height: auto !important; }}
  `;
  if (window.__reviewdeskPdfFit) return;
  window.__reviewdeskPdfFit = setInterval(() => {{
    for (const host of document.querySelectorAll(".st-key-{MATERIAL_KEY} *")) {{
      const root = host.shadowRoot;
      if (!root || root.querySelector("style[data-reviewdesk-fit]")) continue;
      const style = document.createElement("style");
      style.dataset.reviewdeskFit = "1";
      style.textContent = rules;
      root.appendChild(style);
    }}
  }}, 500);
}})();
</script>
"""


def entry_style() -> None:
    """The entry page's styles: the sheet first when stacked, sticky beside the material."""
    st.html(_ENTRY_CSS + _PDF_FIT_JS, unsafe_allow_javascript=True)


def gallery_style() -> None:
    """The gallery's cards as a compact list (small thumbnail beside the text) on a phone."""
    st.html(_GALLERY_CSS)


def leave_guard(dirty: bool) -> None:
    """Tell the browser whether the sheet holds unstored changes; it warns before leaving.

    The state is a marker attribute that every run of the sheet draws anew; the script is
    installed once per tab and reads the marker when the tab is about to be left (a script
    of an element is not run again when only its content changes).
    """
    script = _GUARD_JS % {"sheet": SHEET_KEY, "pause": TYPING_PAUSE_MS}
    marker = f'<div data-reviewdesk-sheet-dirty="{json.dumps(bool(dirty))}"></div>'
    with st.container(key="sheet_guard"):
        st.html(marker + script, unsafe_allow_javascript=True)


def clock_now() -> str:
    """Hours and minutes now on the reviewer's clock (their browser's time zone if known)."""
    zone = st.context.timezone
    try:
        now = datetime.now(ZoneInfo(zone)) if zone else datetime.now().astimezone()
    except (ZoneInfoNotFoundError, ValueError):
        now = datetime.now().astimezone()
    return now.strftime("%H:%M")
