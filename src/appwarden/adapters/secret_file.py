"""The server secret that signs attestations: a file of 64 hex digits, mode 600."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from appwarden.core.errors import StorageError


def load_or_create_key(path: Path) -> bytes:
    """Read the key, or create it (readable by this user only) when the file does not exist."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageError(f"cannot create the signing key {path}: {exc.strerror}") from exc
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError) as exc:
        raise StorageError(
            f"cannot read the signing key {path}: it must hold 64 hex digits"
        ) from exc
    if len(key) < 32:
        raise StorageError(f"the signing key {path} is shorter than 32 bytes")
    return key
