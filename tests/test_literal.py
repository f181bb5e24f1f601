"""Data shown on a page or a chart is text, never Markdown or HTML that the browser acts on."""

from __future__ import annotations

import re

from scoring.errors import ReviewDeskError
from scoring.i18n import MarkdownTranslator, Translator
from scoring.literal import Markdown, html_literal, markdown_literal

HOSTILE = "![x](http://evil.test/t.png) [Sign in again](http://evil.test/p) <b>b</b> $x$ :red[r]"


def test_no_markdown_character_is_left_unescaped():
    shown = markdown_literal(HOSTILE)
    assert re.findall(r"(?<!\\)[!\[\]()<>$:./]", shown) == []


def test_escaping_keeps_every_character_and_joins_lines():
    shown = markdown_literal("a*b\n\n# c")
    assert shown.replace("\\", "") == "a*b  # c"


def test_page_messages_escape_data_once_and_keep_number_formats():
    translate = MarkdownTranslator("en")
    inner = translate("gate.in_campaign", campaign="[c](http://evil.test)", message="m")
    outer = translate("gate.in_campaign", campaign="x", message=inner)
    assert isinstance(outer, Markdown)
    assert outer.count("\\[c\\]") == 1 and "\\\\" not in outer
    assert Translator("en")("gate.in_campaign", campaign="[c]", message="m") == "[c]: m"


def test_a_refusal_on_a_page_shows_the_code_it_names_literally():
    error = ReviewDeskError("error.no_such_entry", code="![x](http://evil.test/t.png)")
    assert "](" in error.message("zh")  # the CLI prints the code as it was typed
    assert "](" not in error.markdown("zh")


def test_chart_labels_carry_no_tags():
    assert html_literal('<a href="http://evil.test">x</a>') == (
        "&lt;a href=&#34;http://evil.test&#34;&gt;x&lt;/a&gt;"
    )


def test_addresses_in_data_do_not_autolink():
    """GitHub autolinking reads the unescaped text: an invisible joiner breaks each address."""
    for address in ("http://evil.test/p", "HTTPS://evil.test", "www.evil.test", "a@evil.test"):
        shown = markdown_literal(address)
        assert "\u2060" in shown
        assert shown.replace("\\", "").replace("\u2060", "") == address
    assert "\u2060" not in markdown_literal("A-01 1.5 智慧城市 (http) www")


def test_html_values_stay_on_one_line():
    """A blank line would end Streamlit's HTML block and render the rest as Markdown."""
    assert "\n" not in html_literal("标题\n\n![x](http://evil.test/t.png)")
