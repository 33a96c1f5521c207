"""Postfix SMTP access policy delegation (SMTPD_POLICY_README), as a pure incremental parser.

Postfix writes `name=value` lines and ends each request with an empty line; the server answers
`action=...` and an empty line, and the connection carries many requests. Limits keep a
misbehaving client from growing memory: a line may be at most `MAX_LINE` bytes and a request at
most `MAX_ATTRIBUTES` attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LINE = 4096
MAX_ATTRIBUTES = 100
MAX_BUFFER = MAX_LINE * 4


class PolicyProtocolError(ValueError):
    """The peer does not speak the policy protocol; the connection should be closed."""


@dataclass
class PolicyReader:
    """Feed bytes, get complete requests (attribute dicts) back."""

    _buffer: bytes = b""
    _attrs: dict[str, str] = field(default_factory=dict)

    def feed(self, data: bytes) -> list[dict[str, str]]:
        self._buffer += data
        if len(self._buffer) > MAX_BUFFER and b"\n" not in self._buffer:
            raise PolicyProtocolError(f"line longer than {MAX_LINE} bytes")
        requests: list[dict[str, str]] = []
        while True:
            line, sep, rest = self._buffer.partition(b"\n")
            if not sep:
                break
            self._buffer = rest
            if len(line) > MAX_LINE:
                raise PolicyProtocolError(f"line longer than {MAX_LINE} bytes")
            line = line.rstrip(b"\r")
            if not line:
                if self._attrs:
                    requests.append(self._attrs)
                self._attrs = {}
                continue
            name, eq, value = line.partition(b"=")
            if not eq or not name:
                raise PolicyProtocolError("expected name=value")
            if len(self._attrs) >= MAX_ATTRIBUTES:
                raise PolicyProtocolError(f"more than {MAX_ATTRIBUTES} attributes")
            self._attrs[name.decode("ascii", "replace")] = value.decode("utf-8", "replace")
        return requests


def action_line(action: str) -> bytes:
    """One answer: `action=...` and the empty line that ends it (text made one safe line)."""
    safe = "".join(c if 32 <= ord(c) < 127 else "?" for c in action)[: MAX_LINE - 16]
    return b"action=" + safe.encode("ascii") + b"\n\n"
