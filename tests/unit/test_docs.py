"""Docs that cannot drift: examples validate, every setting and command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appwarden.adapters.yaml_located import load_located
from appwarden.core.policy_spec import policy_from_data
from appwarden.settings import SETTINGS

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", (DOCS / "policy-format.md").read_text(), re.S)


@pytest.mark.parametrize("text", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_policy_format_examples_validate(text: str) -> None:
    data, lines = load_located(text, "docs example")
    policy = policy_from_data(data, "docs example", lines)
    assert policy.slug


def test_there_are_worked_examples() -> None:
    assert len(EXAMPLES) >= 4


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text]
    assert not missing, f"docs/settings.md misses: {missing}"


def test_every_command_is_documented() -> None:
    from typer.main import get_command

    from appwarden.entrypoints.cli.main import app

    text = (DOCS / "cli.md").read_text()
    root = get_command(app)
    names = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        names += [f"{name} {sub}" for sub in subs] if subs else [name]
    missing = [n for n in names if f"appwarden {n}" not in text]
    assert not missing, f"docs/cli.md misses: {missing}"
