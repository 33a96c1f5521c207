"""Catalogs: Arabic is complete, .mo files match their .po, and every template string is in them."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src/appwarden/entrypoints/console/locale"


def catalog(lang: str):
    with (LOCALE / lang / "LC_MESSAGES/messages.po").open("rb") as f:
        return read_po(f)


def test_arabic_is_complete_and_keeps_placeholders():
    ar = catalog("ar")
    missing = [m.id for m in ar if m.id and not m.string]
    assert not missing, missing
    for m in ar:
        if m.id and "%(" in m.id:
            for name in __import__("re").findall(r"%\((\w+)\)s", m.id):
                assert f"%({name})s" in m.string, (m.id, m.string)


def test_compiled_catalogs_match_their_sources():
    for lang in ("en", "ar"):
        with (LOCALE / lang / "LC_MESSAGES/messages.mo").open("rb") as f:
            compiled = {m.id: m.string for m in read_mo(f) if m.id}
        source = {m.id: m.string for m in catalog(lang) if m.id}
        assert compiled == source, f"{lang}: run scripts/i18n"


def test_every_string_in_the_code_is_in_the_catalogs(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(io.BytesIO(f.read())) if m.id}
    have = {m.id for m in catalog("ar") if m.id}
    assert wanted <= have, sorted(wanted - have)
