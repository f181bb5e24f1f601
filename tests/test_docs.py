"""The README documents every setting, so a newcomer can configure what exists."""

from pathlib import Path

from scoring.settings import Settings

README = (Path(__file__).parents[1] / "README.md").read_text("utf-8")


def test_every_setting_is_in_the_readme():
    missing = [
        f"REVIEWDESK_{name.upper()}"
        for name in Settings.model_fields
        if f"`REVIEWDESK_{name.upper()}`" not in README
    ]
    assert missing == []


def test_the_readme_gives_the_two_commands_and_the_demo_logins():
    assert "make run" in README and "make test" in README
    for username in ("organiser", "expert1", "media1", "review2020"):
        assert username in README
