"""The one table from our exceptions to HTTP statuses, and the error body every route uses."""

from __future__ import annotations

from typing import Any

from appwarden.core.errors import (
    AppWardenError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StorageError,
    Unauthorized,
)
from appwarden.core.timeutil import TimeFormatError

STATUS_OF: tuple[tuple[type[BaseException], int], ...] = (
    (InvalidInput, 422),
    (TimeFormatError, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (StorageError, 503),
    (AppWardenError, 400),
)


def error_body(error: BaseException) -> tuple[int, dict[str, Any]]:
    status = next((code for kind, code in STATUS_OF if isinstance(error, kind)), 500)
    if status == 500:
        return 500, {"error": "internal error", "detail": "the server logged the cause"}
    body: dict[str, Any] = {"error": type(error).__name__, "detail": str(error)}
    if isinstance(error, InvalidInput):
        body["problems"] = [
            {"field": p.field, "message": p.message, "fix": p.fix, "file": p.file, "line": p.line}
            for p in error.problems
        ]
    return status, body
