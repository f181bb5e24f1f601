"""Domain errors that carry a catalogue key, so the page and the CLI show the same reason.

A use case raises ``ReviewDeskError(key, **params)`` with a catalogue key; the caller renders
``scoring.i18n.translate(err.key, lang, **err.params)``. ``str(err)`` gives the English text so
that logs and tracebacks stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Names:
    """Catalogue names as a message parameter, shown in the reader's language.

    A service knows that panel ``expert`` is still open but not who reads the refusal;
    ``Names("panel", ("expert",))`` becomes 专家评审 on a Chinese page and "Expert panel" in
    English, where the bare key would mean nothing to an organiser.
    """

    prefix: str
    keys: tuple[str, ...]

    def render(self, lang: str) -> str:
        from scoring.i18n import translate

        separator = "、" if lang == "zh" else ", "
        return separator.join(translate(f"{self.prefix}.{key}", lang) for key in self.keys)


def rendered(params: dict[str, Any], lang: str) -> dict[str, Any]:
    """Message parameters with every `Names` turned into text in `lang`."""
    return {k: v.render(lang) if isinstance(v, Names) else v for k, v in params.items()}


class ReviewDeskError(Exception):
    """A refusal with a reason a user can act on; nothing was changed."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def message(self, lang: str = "en") -> str:
        """The reason in the given interface language, as plain text (CLI, logs, tables)."""
        from scoring.i18n import translate

        return translate(self.key, lang, **rendered(self.params, lang))

    def markdown(self, lang: str = "en") -> str:
        """The reason for a page: the codes, names and file names in it shown literally."""
        from scoring.i18n import MarkdownTranslator

        return MarkdownTranslator(lang)(self.key, **rendered(self.params, lang))

    def __str__(self) -> str:
        return self.message("en")


class PermissionDenied(ReviewDeskError):
    """The acting user may not do this (checked on the server side of every action)."""


class StateRefused(ReviewDeskError):
    """The campaign's state (finalised, panel locked, not finalised) does not allow this now."""


class NotFound(ReviewDeskError):
    """A named campaign, entry, user or file does not exist."""


class ValidationFailed(ReviewDeskError):
    """Input broke a rule; ``problems`` lists every one of them for the report."""

    def __init__(self, key: str, problems: list[Any] | None = None, **params: Any) -> None:
        super().__init__(key, **params)
        self.problems = problems or []


class StaleEdit(ReviewDeskError):
    """Somebody saved the same record since this view read it."""


class AssetError(ReviewDeskError):
    """A stored or uploaded file is refused (wrong content, too large, unsafe name)."""
