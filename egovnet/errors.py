"""The exceptions egovnet raises, and the problem records that inventory validation reports.

One root exception (`EgovnetError`) so a caller can catch everything egovnet means to raise;
subclasses also derive from the matching stdlib error so that generic handlers still work.
Inventory validation never stops at the first problem: it collects `Problem` records and
raises one `InventoryError` carrying all of them, because an engineer fixing a 3,000-node
inventory wants the whole list in one run, each entry pointing at file, line, host and field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


class EgovnetError(Exception):
    """Root of every error egovnet raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the inventory, located as precisely as the input allows.

    >>> str(Problem("inventory/hosts.yaml", "data.parent", "no such host 'x'", host="a", line=7))
    "inventory/hosts.yaml:7: host 'a': data.parent: no such host 'x'"
    """

    file: str
    field: str
    message: str
    host: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" host '{self.host}':" if self.host else ""
        what = f" {self.field}:" if self.field else ""
        return f"{where}:{who}{what} {self.message}"

    def as_dict(self) -> dict[str, object]:
        """The problem as plain data, for `--json`."""
        return asdict(self)


@dataclass
class ProblemList:
    """Collects problems while validation walks the inventory."""

    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        file: str | Path,
        field_name: str,
        message: str,
        *,
        host: str | None = None,
        line: int | None = None,
    ) -> None:
        """Record one problem."""
        self.problems.append(Problem(str(file), field_name, message, host=host, line=line))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        """Raise one `InventoryError` with everything collected so far."""
        if self.problems:
            raise InventoryError(self.problems)


class InventoryError(EgovnetError, ValueError):
    """The inventory is invalid; `problems` lists every reason, sorted by file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(
            dict.fromkeys(problems), key=lambda p: (p.file, p.line or 0, p.host or "", p.field)
        )
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the inventory:\n{lines}")


class SecretError(EgovnetError, KeyError):
    """A secret the inventory refers to could not be found in the environment or secrets file."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "secret not found"
