"""Policy files on disk: one YAML file per policy, named after its slug."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appwarden.adapters.yaml_located import load_located
from appwarden.core.errors import InvalidInput, PolicyInvalid, Problem
from appwarden.core.policy import Policy
from appwarden.core.policy_spec import policy_from_data


@dataclass(frozen=True, slots=True)
class PolicyFile:
    path: Path
    policy: Policy
    source: str


def read_policy_text(text: str, origin: str) -> Policy:
    data, lines = load_located(text, origin)
    return policy_from_data(data, origin, lines)


def read_policy_file(path: Path) -> PolicyFile:
    origin = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(Problem("no such file", file=origin, fix="check the path")) from exc
    except OSError as exc:
        raise InvalidInput(Problem(f"cannot read: {exc.strerror}", file=origin)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyInvalid(
            Problem("is not UTF-8 text", file=origin, fix="save the file as UTF-8")
        ) from exc
    policy = read_policy_text(text, origin)
    if path.stem != policy.slug:
        raise PolicyInvalid(
            Problem(
                f"slug {policy.slug!r} does not match the file name {path.name!r}",
                field="slug",
                file=origin,
                line=1,
                fix=f"rename the file to {policy.slug}.yaml or change the slug",
            )
        )
    return PolicyFile(path, policy, text)


def policy_paths(target: Path) -> list[Path]:
    """A file, or every *.yaml / *.yml file in a folder (sorted)."""
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml"))
    return [target]
