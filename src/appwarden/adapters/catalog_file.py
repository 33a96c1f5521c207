"""Loading the shipped app catalog, plus an optional local catalog merged into it."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from appwarden.core.catalog import Catalog, catalog_from_data
from appwarden.core.errors import CatalogInvalid, Problem


def _read(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise CatalogInvalid(Problem(f"not valid YAML: {exc}", file=origin)) from exc
    if not isinstance(data, dict):
        raise CatalogInvalid(Problem("must be a YAML mapping", file=origin))
    return data


@lru_cache(maxsize=1)
def shipped_catalog_data() -> dict[str, Any]:
    text = (resources.files("appwarden") / "data" / "catalog.yaml").read_text(encoding="utf-8")
    return _read(text, "catalog.yaml (shipped)")


def merge_data(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Local entries add to the shipped ones and replace those with the same key."""
    out: dict[str, Any] = dict(base)
    out["sources"] = {**(base.get("sources") or {}), **(extra.get("sources") or {})}
    for section in ("companies", "apps", "bans"):
        merged = {row["key"]: row for row in base.get(section) or [] if isinstance(row, dict)}
        for row in extra.get(section) or []:
            if isinstance(row, dict) and "key" in row:
                merged[row["key"]] = row
        out[section] = list(merged.values())
    return out


def load_catalog(local: Path | None = None) -> Catalog:
    data = shipped_catalog_data()
    origin = "catalog.yaml (shipped)"
    if local is not None and str(local):
        try:
            text = local.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogInvalid(
                Problem(f"cannot read local catalog: {exc.strerror}", file=str(local))
            ) from exc
        data = merge_data(data, _read(text, str(local)))
        origin = f"{local} (merged with the shipped catalog)"
    return catalog_from_data(data, origin)
