"""No page script holds a bare string besides its docstring: Streamlit's magic would draw it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "pages").glob("[!_]*.py"))]


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_a_script_has_no_bare_string_that_magic_would_draw(script):
    tree = ast.parse(script.read_text(encoding="utf-8"))
    drawn = [
        node.lineno
        for node in tree.body[1:]  # the module docstring is not drawn
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    assert drawn == [], f"{script.name}: a string at line(s) {drawn} would show on the page"
