"""The core is pure: no I/O, no clock, no randomness, and nothing from the outer layers.

Every module under src/appwarden/core is parsed with `ast` (never imported for this), and the
checker itself is tested on small sources so that it cannot pass by seeing nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import appwarden

CORE = Path(appwarden.__file__).parent / "core"
FORBIDDEN_MODULES = frozenset(
    {
        "os", "sys", "io", "socket", "sqlite3", "subprocess", "threading", "asyncio", "random",
        "secrets", "uuid", "time", "pathlib", "shutil", "logging", "urllib", "http",
        "multiprocessing", "tempfile", "importlib", "ctypes", "signal", "select", "ssl",
    }
)  # fmt: skip
OUTER_LAYERS = (
    "appwarden.adapters",
    "appwarden.services",
    "appwarden.entrypoints",
    "appwarden.bootstrap",
    "appwarden.settings",
)
CLOCK_ATTRIBUTES = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
                    ("date", "today")}  # fmt: skip
FORBIDDEN_BUILTINS = {"open", "input", "print", "__import__", "exec", "eval", "breakpoint"}


def _absolute(node: ast.ImportFrom, module: str) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")[: -node.level]
    return ".".join([*package, *([node.module] if node.module else [])])


def _banned(name: str) -> bool:
    if name.split(".")[0] in FORBIDDEN_MODULES:
        return True
    return any(name == layer or name.startswith(layer + ".") for layer in OUTER_LAYERS)


class _Checker(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.found: list[str] = []
        self.aliases: dict[str, str] = {}  # local name -> "datetime", "datetime.datetime"...

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _banned(alias.name):
                self.found.append(f"line {node.lineno}: import {alias.name}")
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = _absolute(node, self.module)
        for alias in node.names:
            full = f"{source}.{alias.name}" if source else alias.name
            if _banned(source) or _banned(full):
                self.found.append(f"line {node.lineno}: from {source} import {alias.name}")
            self.aliases[alias.asname or alias.name] = full
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        owner = self._dotted(node.value)
        if owner is not None:
            resolved = owner.split(".")
            resolved[0] = self.aliases.get(resolved[0], resolved[0])
            cls = ".".join(resolved).split(".")[-1]
            if (cls, node.attr) in CLOCK_ATTRIBUTES and ".".join(resolved).startswith("datetime"):
                self.found.append(f"line {node.lineno}: reads the clock ({cls}.{node.attr})")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_BUILTINS:
            self.found.append(f"line {node.lineno}: calls {node.func.id}()")
        self.generic_visit(node)

    def _dotted(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            inner = self._dotted(node.value)
            return f"{inner}.{node.attr}" if inner else None
        return None


def impurities(source: str, module: str = "appwarden.core.example") -> list[str]:
    checker = _Checker(module)
    checker.visit(ast.parse(source))
    return checker.found


CORE_MODULES = sorted(CORE.rglob("*.py"))


def test_the_core_is_where_we_look() -> None:
    names = {p.stem for p in CORE_MODULES}
    assert {"assess", "decision", "events", "fleet", "policy_spec", "timeutil"} <= names


@pytest.mark.parametrize("path", CORE_MODULES, ids=[p.stem for p in CORE_MODULES])
def test_core_module_is_pure(path: Path) -> None:
    module = "appwarden.core." + ".".join(path.relative_to(CORE).with_suffix("").parts)
    assert impurities(path.read_text(encoding="utf-8"), module) == []


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "import os.path",
        "import sys as system",
        "from pathlib import Path",
        "from time import monotonic",
        "import random",
        "from secrets import token_hex",
        "from uuid import uuid4",
        "import urllib.request",
        "from http import client",
        "import logging",
        "import sqlite3",
        "from asyncio import sleep",
        "import threading, json",
        "from appwarden.adapters.db import SqliteStore",
        "from appwarden.services import assessment",
        "from appwarden import entrypoints",
        "from appwarden.bootstrap import build",
        "from ..adapters import clock",
        "from .. import services",
        "from ..entrypoints.cli import main",
        "from datetime import datetime\nx = datetime.now()",
        "from datetime import datetime\nx = datetime.utcnow()",
        "import datetime\nx = datetime.datetime.now(datetime.UTC)",
        "import datetime as dt\nx = dt.date.today()",
        "from datetime import date\nx = date.today()",
        "from datetime import datetime as DT\nx = DT.today()",
        "from datetime import datetime\nfrom dataclasses import field\nf = field(default_factory=datetime.now)",
        "x = open('catalog.yaml').read()",
        "print('hello')",
        "m = __import__('os')",
    ],
)
def test_the_checker_catches(source: str) -> None:
    assert impurities(source, "appwarden.core.example"), source


@pytest.mark.parametrize(
    "source",
    [
        "from zoneinfo import ZoneInfo",
        "import hashlib, json, re, fnmatch, bisect, itertools, array",
        "from pyroaring import BitMap",
        "from datetime import UTC, date, datetime, timedelta",
        "from appwarden.core.timeutil import iso",
        "from . import timeutil",
        "from datetime import datetime\nx = datetime.fromisoformat('2020-07-10T18:00')",
        "def f(now):\n    return now.today",
        "class Clock:\n    def now(self): ...\nClock().now()",
    ],
)
def test_the_checker_allows(source: str) -> None:
    assert impurities(source, "appwarden.core.example") == []
