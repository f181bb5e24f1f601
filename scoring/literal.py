"""Data shown as literal text: in Streamlit's Markdown and in plotly's HTML subset.

Titles, names, codes, file names and query parameters come from applicants, import files and
the address bar. Streamlit renders Markdown in nearly every element (captions, alerts,
labels, tabs, toasts), with images that the browser fetches from any host, links, autolinked
URLs, ``:material/...:`` icons and ``$...$`` maths; plotly renders ``<b>``, ``<br>`` and
``<a href>`` in every label. An entry titled ``![x](http://host/t.png)`` would make each
reviewer's browser call that host. So every piece of data is escaped where it meets one of
these renderers, and nowhere else: the database, the exports and the CLI keep it as typed.

Text that is already safe to render (a translated message whose parameters were escaped) is a
`Markdown` instance and is not escaped twice, the way markupsafe's ``Markup`` works.
"""

from __future__ import annotations

import html
import re
import string
from typing import Any

_MARKDOWN_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
"""CommonMark lets a backslash escape any ASCII punctuation, and an escaped character starts
no construct: no link, image, emphasis, heading, list, table, HTML tag, emoji or icon
shortcode, directive or maths."""

_AUTOLINK_START = re.compile(r"(?i)(?<=https)(?=\\:)|(?<=http)(?=\\:)|(?<=www)(?=\\\.)|(?=\\@)")
"""Where GitHub's autolinking would still find an address. It reads the text *after* the
escapes are resolved, so an escaped ``http://``, ``www.`` or ``a@b.cn`` still becomes a link;
an invisible word joiner (U+2060) placed there breaks the pattern and shows nothing."""

WORD_JOINER = "\u2060"


class Markdown(str):
    """Text known to be safe to hand to a Markdown renderer as it is."""

    __slots__ = ()


def markdown_literal(value: Any) -> Markdown:
    """``value`` as text that Streamlit's Markdown shows character for character.

    Line breaks become spaces: a value is one line of a label or a message, and a blank line
    or leading spaces would otherwise start a paragraph or a code block.
    """
    if isinstance(value, Markdown):
        return value
    text = " ".join(str(value).splitlines())
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return Markdown(_AUTOLINK_START.sub(WORD_JOINER, escaped))


def markdown_params(params: dict[str, Any]) -> dict[str, Any]:
    """Message parameters with every text escaped; numbers stay numbers for ``{n:.2f}``."""
    return {
        name: markdown_literal(value) if isinstance(value, str) else value
        for name, value in params.items()
    }


def html_literal(value: Any) -> str:
    """``value`` as text for HTML and for plotly's labels (titles, ticks, hover, legends).

    Plotly turns ``<b>``, ``<br>``, ``<a href=...>`` and entities in any label into markup.
    It decodes ``&lt;``, ``&gt;``, ``&amp;`` and numeric entities back to the characters,
    but not ``&quot;``: quotes are written as numeric entities, which browsers read alike.
    Lines are joined: Streamlit reads HTML markup as Markdown first, and a blank line in a
    value would end the HTML block there and render the rest as Markdown (images, links).
    """
    text = html.escape(" ".join(str(value).splitlines()), quote=False)
    return text.replace('"', "&#34;").replace("'", "&#39;")
