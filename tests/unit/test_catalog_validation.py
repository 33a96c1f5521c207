"""Catalog data is validated as a whole: every problem is reported, each with its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from appwarden.adapters.catalog_file import shipped_catalog_data
from appwarden.core.catalog import catalog_from_data
from appwarden.core.errors import CatalogInvalid, InvalidInput
from appwarden.core.inventory import AppPlatform, AppRef


def small() -> dict[str, Any]:
    """A valid catalog: one source, a parent and a subsidiary, two apps, one ban."""
    return {
        "sources": {"notes": {"title": "notes", "date": "2026-01-01"}},
        "companies": [
            {
                "key": "parent",
                "name": "Parent Ltd.",
                "jurisdiction": {"value": "cn", "source": "notes"},
            },
            {
                "key": "sub",
                "name": "Sub Pte. Ltd.",
                "aliases": ["Sub"],
                "jurisdiction": {"value": "SG", "source": "notes", "date": "2026-01-01"},
                "parent": {"company": "parent", "source": "notes", "status": "third_party"},
            },
        ],
        "apps": [
            {
                "key": "one",
                "name": "One",
                "publisher": {"company": "sub", "source": "notes"},
                "identifiers": [
                    {"platform": "android", "id": "com.example.one", "source": "notes"},
                    {"platform": "ios", "id": "com.example.one", "status": "uncertain"},
                ],
                "named_in": ["ban-1"],
            },
            {"key": "two", "name": "Two", "publisher": {"company": "parent"}},
        ],
        "bans": [
            {"key": "ban-1", "jurisdiction": "US", "date": "2023-02-27", "instrument": "memo"}
        ],
    }


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(CatalogInvalid) as caught:
        catalog_from_data(data, "local-catalog.yaml")
    assert isinstance(caught.value, InvalidInput)
    for problem in caught.value.problems:
        assert problem.file == "local-catalog.yaml"
        assert problem.field, problem
        assert problem.fix, f"{problem.field}: {problem.message} has no fix"
    return {p.field: p.message for p in caught.value.problems}


def test_a_valid_catalog_builds_its_graph() -> None:
    catalog = catalog_from_data(small())
    one = catalog.app_for(AppRef(AppPlatform.ANDROID, "com.example.one"))
    assert one is not None and one.key == "one"
    assert [c.key for c in catalog.publisher_lineage(one)] == ["sub", "parent"]
    assert catalog.companies["parent"].jurisdiction == "CN"
    assert catalog.company("sub") == catalog.company("SUB PTE. LTD.") == catalog.companies["sub"]
    assert one.identifiers[1].provenance.status == "uncertain"


def test_the_shipped_catalog_is_valid() -> None:
    catalog = catalog_from_data(shipped_catalog_data())
    assert catalog.app_for(AppRef(AppPlatform.ANDROID, "com.zhiliaoapp.musically")) is not None
    tiktok = catalog.apps["tiktok"]
    assert [c.key for c in catalog.publisher_lineage(tiktok)] == ["tiktok-pte", "bytedance"]


def test_unknown_companies_are_reported_where_they_are_named() -> None:
    data = small()
    data["apps"][1]["publisher"]["company"] = "nobody"
    data["companies"][1]["parent"]["company"] = "ghost-holdings"
    found = problems_of(data)
    assert found == {
        "apps[1].publisher.company": "unknown company 'nobody'",
        "companies.sub.parent": "unknown company 'ghost-holdings'",
    }


def test_unknown_sources_are_reported_for_every_kind_of_link() -> None:
    data = small()
    data["companies"][0]["jurisdiction"]["source"] = "rumour"
    data["companies"][1]["parent"]["source"] = "rumour"
    data["apps"][0]["publisher"]["source"] = "rumour"
    data["apps"][0]["identifiers"][0]["source"] = "rumour"
    found = problems_of(data)
    assert found == dict.fromkeys(
        [
            "companies[0].jurisdiction.source",
            "companies[1].parent.source",
            "apps[0].publisher.source",
            "apps[0].identifiers[0].source",
        ],
        "names unknown source 'rumour'",
    )


def test_duplicate_identifiers_and_keys_are_reported_with_both_places() -> None:
    data = small()
    data["apps"][1]["identifiers"] = [{"platform": "android", "id": "com.example.one"}]
    data["apps"].append(copy.deepcopy(data["apps"][1]) | {"identifiers": []})
    data["companies"].append({"key": "parent", "name": "Parent again"})
    found = problems_of(data)
    assert found["apps[1].identifiers[0]"] == "android:com.example.one also listed under app 'one'"
    assert found["apps[2].key"] == "duplicate app key 'two'"
    assert found["companies[2].key"] == "duplicate company key 'parent'"
    assert len(found) == 3


def test_the_same_id_on_two_platforms_is_not_a_duplicate() -> None:
    catalog = catalog_from_data(small())
    assert catalog.app_for(AppRef(AppPlatform.IOS, "com.example.one")) is not None


def test_every_problem_in_a_file_is_reported_at_once_each_with_a_fix() -> None:
    data = small()
    data["companies"][0]["name"] = ""
    data["apps"][0]["identifiers"].append({"platform": "symbian", "id": "x"})
    data["apps"][0]["identifiers"].append({"platform": "android", "id": "has space"})
    data["apps"][0]["identifiers"][1]["status"] = "rumoured"
    data["apps"][0]["named_in"].append("no-such-ban")
    data["bans"][0]["date"] = "last year"
    data["apps"].append("not a mapping")
    data["companies"][1]["jurisdiction"] = "SG"
    with pytest.raises(CatalogInvalid) as caught:
        catalog_from_data(data, "local-catalog.yaml")
    by_field = {p.field: p for p in caught.value.problems}
    assert all(p.fix for p in caught.value.problems), [p.render() for p in caught.value.problems]
    assert set(by_field) == {
        "companies[0].name",
        "apps[0].identifiers[2]",
        "apps[0].identifiers[3]",
        "apps[0].identifiers[1].status",
        "apps.one.named_in",
        "bans[0].date",
        "apps[2]",
        "companies[1].jurisdiction",
    }
    assert by_field["companies[0].name"].fix == "add `name:`"
    assert by_field["bans[0].date"].fix == "write YYYY-MM-DD"
    assert "platform: android|ios" in by_field["apps[0].identifiers[2]"].fix
    assert "'rumoured' is not a status" in by_field["apps[0].identifiers[1].status"].message
    rendered = str(caught.value)
    assert "local-catalog.yaml: bans[0].date: 'last year' is not a date" in rendered
