"""A throwaway CA, a server certificate and per-device client certificates (openssl CLI)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


def _openssl(*args: str) -> str:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=True)
    return done.stdout


@dataclass
class Pki:
    dir: Path
    fingerprints: dict[str, str]  # name -> SHA-1, as nginx shows it (lower-case hex)

    def cert(self, name: str) -> Path:
        return self.dir / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.key"


def _issue(d: Path, name: str, subject: str, ca: str = "ca", server: bool = False) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(d / f"{name}.key"))
    _openssl(
        "req",
        "-new",
        "-key",
        str(d / f"{name}.key"),
        "-subj",
        subject,
        "-out",
        str(d / f"{name}.csr"),
    )
    ext = d / f"{name}.ext"
    ext.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n" if server else "extendedKeyUsage=clientAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / f"{ca}.pem"),
        "-CAkey", str(d / f"{ca}.key"), "-CAcreateserial", "-days", "30",
        "-extfile", str(ext), "-out", str(d / f"{name}.pem"),
    )  # fmt: skip


def make_pki(d: Path) -> Pki:
    d.mkdir(parents=True, exist_ok=True)
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(d / "ca.key"))
    _openssl("req", "-x509", "-new", "-key", str(d / "ca.key"), "-subj", "/CN=Test Device CA",
             "-days", "30", "-out", str(d / "ca.pem"))  # fmt: skip
    _issue(d, "server", "/CN=localhost", server=True)
    fingerprints = {}
    for name, cn in (("good", "GOODDEVICE1"), ("bad", "BADDEVICE1"), ("stranger", "NEWDEVICE9")):
        _issue(d, name, f"/CN={cn}/OU=mail/O=Corp MDM")
        out = _openssl("x509", "-in", str(d / f"{name}.pem"), "-noout", "-fingerprint", "-sha1")
        fingerprints[name] = out.split("=", 1)[1].strip().replace(":", "").lower()
    for path in d.iterdir():
        path.chmod(0o644)
    return Pki(d, fingerprints)
