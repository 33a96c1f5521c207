"""YAML -> plain data plus a map of dotted paths to line numbers, for located error messages."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from appwarden.core.errors import InvalidInput, Problem

MAX_BYTES = 1_000_000


def load_located(text: str, origin: str) -> tuple[Any, dict[str, int]]:
    """Parse YAML safely; return (data, {path: line}). Syntax errors name the line."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise InvalidInput(Problem("file is larger than 1 MB", file=origin, fix="split it"))
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise InvalidInput(
            Problem(
                f"not valid YAML: {exc.problem}",
                file=origin,
                line=line,
                fix="check indentation and quoting on that line",
            )
        ) from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(Problem(f"not valid YAML: {exc}", file=origin)) from exc
    lines: dict[str, int] = {}
    if node is not None:
        _walk(node, "", lines)
    return data, lines


def _walk(node: Node, path: str, lines: dict[str, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                child = f"{path}.{key_node.value}" if path else str(key_node.value)
                lines[child] = key_node.start_mark.line + 1
                _walk(value_node, child, lines)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{path}[{i}]"
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines)
