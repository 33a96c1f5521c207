"""The IMAP ID argument list (RFC 2971) as Dovecot passes it in `%{client_id}`.

Dovecot hands over the raw list: `"name" "Mail" "x-device-id" "ABC" "os" NIL`, quoted strings
with backslash escapes, NIL for no value, possibly with a leading space. Keys are
case-insensitive (lower-cased here); values are un-escaped. A malformed list yields what could
be read before the fault: the client asserted it, so it is a hint, never a credential.
"""

from __future__ import annotations

MAX_FIELDS = 30  # RFC 2971 allows at most 30 field-value pairs
MAX_VALUE = 1024  # Dovecot's own limit per value


def parse_imap_id(arglist: str) -> dict[str, str]:
    tokens = _tokens(arglist)
    fields: dict[str, str] = {}
    for i in range(0, len(tokens) - 1, 2):
        key, value = tokens[i], tokens[i + 1]
        if key is None or len(fields) >= MAX_FIELDS:
            break
        fields[key.lower()] = value or ""
    return fields


def _tokens(text: str) -> list[str | None]:
    """Quoted strings (un-escaped) and NIL (None); stops at the first thing that is neither."""
    out: list[str | None] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t()":
            i += 1
        elif c == '"':
            value, i = _quoted(text, i + 1)
            if value is None:
                break
            out.append(value[:MAX_VALUE])
        elif text[i : i + 3].upper() == "NIL":
            out.append(None)
            i += 3
        else:
            break
    return out


def _quoted(text: str, i: int) -> tuple[str | None, int]:
    chars: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            chars.append(text[i + 1])
            i += 2
        elif c == '"':
            return "".join(chars), i + 1
        else:
            chars.append(c)
            i += 1
    return None, i  # unterminated


def quote_imap_id(fields: dict[str, str | None]) -> str:
    """The inverse (for tests and the IMAP client in benchmarks)."""

    def q(value: str | None) -> str:
        if value is None:
            return "NIL"
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "(" + " ".join(f"{q(k)} {q(v)}" for k, v in fields.items()) + ")"
