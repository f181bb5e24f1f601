"""The validation report of an import: every problem with its row, column and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scoring.errors import ValidationFailed, rendered
from scoring.i18n import translate


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file. ``row`` is the spreadsheet row number (header = 1)."""

    key: str
    row: int | None = None
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        """``row 3, column category: reason`` in the interface language."""
        reason = translate(self.key, lang, **rendered(self.params, lang))
        where = []
        if self.row is not None:
            where.append(translate("import.at_row", lang, row=self.row))
        if self.column:
            where.append(translate("import.at_column", lang, column=self.column))
        return f"{', '.join(where)}: {reason}" if where else reason


@dataclass
class Report:
    """Problems and warnings collected while reading; ``raise_if_invalid`` stops the import."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def add(
        self, key: str, row: int | None = None, column: str | None = None, **params: Any
    ) -> None:
        self.problems.append(Problem(key, row, column, params))

    def warn(
        self, key: str, row: int | None = None, column: str | None = None, **params: Any
    ) -> None:
        self.warnings.append(Problem(key, row, column, params))

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_invalid(self, source: str) -> None:
        """Refuse the whole file, naming every bad row; nothing has been written yet."""
        if self.problems:
            raise ValidationFailed(
                "import.rejected",
                problems=list(self.problems),
                source=source,
                count=len(self.problems),
            )
