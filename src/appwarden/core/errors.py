"""One exception tree for the whole product.

    AppWardenError                 base: every error we raise on purpose
    ├── InvalidInput               bad input from a user or a file: names the field and the fix
    │   ├── PolicyInvalid          a policy file is wrong (file, line, field, fix)
    │   ├── CatalogInvalid         the catalog data file is wrong
    │   └── ImportRejected         an import file is wrong (file, line, field, fix)
    ├── NotFound                   a named thing does not exist
    ├── Conflict                   the request contradicts the stored state
    │   └── LeadTimeTooShort       a deadline is closer than the minimum lead time
    ├── Unauthorized               no or bad credentials
    ├── Forbidden                  credentials fine, role insufficient
    └── StorageError               the database failed (adapters translate driver errors into this)

Entry points map these to exit codes and HTTP statuses in one table each; nothing else should
escape to a user as a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in an input: where, which field, what is wrong, how to fix it."""

    message: str
    field: str = ""
    fix: str = ""
    file: str = ""
    line: int | None = None

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, self.field) if p]
        head = " ".join(f"{p}:" for p in parts)
        text = f"{head} {self.message}" if head else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class AppWardenError(Exception):
    """Base of every error raised on purpose."""


class InvalidInput(AppWardenError):
    """Bad input: carries one or more located problems."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = problems
        super().__init__("; ".join(p.render() for p in problems))


class PolicyInvalid(InvalidInput):
    """A policy file does not validate."""


class CatalogInvalid(InvalidInput):
    """The app catalog data does not validate."""


class ImportRejected(InvalidInput):
    """An inventory import file does not validate."""


class NotFound(AppWardenError):
    """A named thing does not exist."""


class Conflict(AppWardenError):
    """The request contradicts the stored state."""


class LeadTimeTooShort(Conflict):
    """A deadline is closer than the configured minimum lead time."""


class Unauthorized(AppWardenError):
    """Missing or invalid credentials."""


class Forbidden(AppWardenError):
    """Valid credentials without the role the action needs."""


class StorageError(AppWardenError):
    """The database failed; the message says what to check."""
