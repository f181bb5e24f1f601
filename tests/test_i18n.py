"""The translation layer: both catalogues complete, every key used in the code defined."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from scoring.i18n import catalogue, translate

ROOT = Path(__file__).parents[1]
KEY_CALL = re.compile(
    r"""\b(?:tr|translate|_say|t\(\)|ReviewDeskError|ValidationFailed|NotFound|StaleEdit|AssetError|PermissionDenied|StateRefused|report\.add|report\.warn)\(\s*["']([a-z_]+\.[a-z_0-9]+)["']"""
)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_chinese_and_english_have_the_same_keys_and_placeholders():
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en)
    mismatched = [key for key in zh if _placeholders(zh[key]) != _placeholders(en[key])]
    assert mismatched == []


def test_every_key_used_in_the_code_exists():
    sources = [*ROOT.glob("app.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("scoring/**/*.py")]
    used = {key for path in sources for key in KEY_CALL.findall(path.read_text("utf-8"))}
    assert len(used) > 100  # the pattern really finds the calls
    assert sorted(used - set(catalogue("zh"))) == []


@pytest.mark.parametrize(
    ("lang", "expected"), [("zh", "用户名或密码错误。"), ("en", "Wrong username or password.")]
)
def test_translate_picks_the_language(lang, expected):
    assert translate("login.failed", lang) == expected


def test_placeholders_are_filled():
    assert translate("login.locked", "en", minutes=15).startswith(
        "This account is locked for 15 minutes"
    )
