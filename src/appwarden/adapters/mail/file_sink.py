"""A transport that writes each message as an .eml file (the demo, and hosts with no relay)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class FileSinkTransport:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = f"file://{folder}"

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, sender: str, recipient: str, message: bytes) -> str:  # noqa: ARG002
        self.open()
        name = hashlib.sha256(message).hexdigest()[:16]
        safe = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in recipient)
        final = self.folder / f"{safe}-{name}.eml"
        partial = final.with_suffix(".tmp")
        with partial.open("wb") as handle:
            handle.write(message)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(final)
        return f"250 written to {final.name}"

    def close(self) -> None:
        return None
