"""The one translation layer: every visible string is a key looked up in a catalogue.

Catalogues are TOML files under ``scoring/locales/<lang>/``; each file holds the keys of one
part of the product (``common.toml``, ``assets.toml`` ...) so that they stay small. Chinese is
the default interface language; English is complete too, and a test keeps the two in step.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from scoring.literal import Markdown, markdown_params

LANGUAGES: dict[str, str] = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[key] = str(value)
    return flat


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All keys of one language, read once per process."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown interface language {lang!r}; choose one of {sorted(LANGUAGES)}")
    folder = resources.files("scoring") / "locales" / lang
    merged: dict[str, str] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            for key, text in _flatten(tomllib.loads(item.read_text("utf-8"))).items():
                if key in merged:
                    raise ValueError(f"catalogue key {key!r} defined twice in {lang}")
                merged[key] = text
    return merged


def translate(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text for ``key`` in ``lang`` with ``{placeholders}`` filled.

    A missing key shows as the key itself rather than failing the page: the catalogue
    tests catch such keys before they ship.
    """
    text = catalogue(lang).get(key)
    if text is None:
        return key
    return text.format(**params) if params else text


class Translator:
    """A callable bound to one language, for text that no Markdown renderer reads.

    The CLI, exports and plain-text elements use it; pages get a `MarkdownTranslator`.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, /, **params: Any) -> str:
        return translate(key, self.lang, **params)

    def plain(self, key: str, /, **params: Any) -> str:
        """The message with its parameters as they are (a table cell, a file name, a chart)."""
        return translate(key, self.lang, **params)


class MarkdownTranslator(Translator):
    """The pages' translator: parameters (titles, names, codes ...) are shown literally.

    Catalogue texts may use Markdown themselves (``**{name}**``); the data put into them may
    not, so each string parameter is escaped (`scoring.literal.markdown_literal`) and the
    result is marked safe, so that a message used inside another message is not escaped again.
    """

    def __call__(self, key: str, /, **params: Any) -> Markdown:
        return Markdown(translate(key, self.lang, **markdown_params(params)))
