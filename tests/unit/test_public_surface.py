"""The package exports exactly what its documentation says, and nothing slips in unannounced.

The documented surface is the "Public names:" line of the package docstring (what
`help(appwarden)` shows); adding an export means changing that line, this test and the
CHANGELOG together.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import appwarden

DOCUMENTED = ["__version__"]
ROOT = Path(__file__).resolve().parents[2]


def documented_names() -> list[str]:
    doc = appwarden.__doc__ or ""
    match = re.search(r"^Public names: (.+)\.$", doc, re.MULTILINE)
    assert match, "the package docstring must have a 'Public names: `...`.' line"
    return re.findall(r"`([^`]+)`", match.group(1))


def test_all_is_exactly_the_documented_surface() -> None:
    assert sorted(appwarden.__all__) == sorted(documented_names()) == sorted(DOCUMENTED)
    assert len(set(appwarden.__all__)) == len(appwarden.__all__)


def test_every_exported_name_exists_and_star_import_gives_exactly_them() -> None:
    for name in appwarden.__all__:
        assert hasattr(appwarden, name), name
    namespace: dict[str, object] = {}
    exec("from appwarden import *", namespace)  # the point of the test
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(appwarden.__all__)


def test_no_public_attribute_is_left_out_of_all() -> None:
    public = {
        name
        for name, value in vars(appwarden).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public <= set(appwarden.__all__), public - set(appwarden.__all__)


def test_the_version_is_the_one_the_package_is_built_with() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert appwarden.__version__ == project["version"] == version("appwarden")
