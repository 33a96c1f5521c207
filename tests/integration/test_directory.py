"""Directory sync from CSV and SCIM JSON: employees, managers, aliases that link devices."""

from __future__ import annotations

import pytest

from appwarden.adapters.importers.directory import parse_csv, parse_directory
from appwarden.core.errors import ImportRejected
from appwarden.entrypoints.cli.inventory_cmd import PARSERS
from appwarden.services.directory import run_sync
from tests.support.builders import T0
from tests.support.inventory import FIXTURES, make_app


@pytest.fixture
def app(tmp_path):
    application = make_app(tmp_path / "home")
    yield application
    application.close()


def employee(app, email):
    with app.store.read() as uow:
        return uow.inventory.employee(email)


def test_csv_sync_links_devices_known_by_upn(app, tmp_path):
    upn_only = tmp_path / "intune.json"
    text = (FIXTURES / "intune" / "managedDevices.json").read_text()
    upn_only.write_text(
        text.replace('"emailAddress": "omar.alharbi@corp.example"', '"emailAddress": ""')
    )
    app.engine.import_inventory(PARSERS["intune"](upn_only), "test", T0)
    omar_phone = "intune-a91e0c3b-7d22-4f57-b3c1-8e2d4f6a0b13"
    with app.store.read() as uow:
        assert uow.inventory.device(omar_phone).owner == "oalharbi@corp.onmicrosoft.com"
    summary, report = run_sync(
        app.engine, parse_directory(FIXTURES / "directory" / "people.csv"), "test", T0
    )
    assert (summary.added, summary.inactive_skipped, summary.devices_linked) == (5, 1, 1)
    assert report is not None
    omar = employee(app, "omar.alharbi@corp.example")
    assert (omar.department, omar.locale, omar.timezone, omar.manager) == (
        "Operations",
        "ar",
        "Asia/Riyadh",
        "ahmed.alotaibi@corp.example",
    )
    assert omar.groups == frozenset({"all-staff", "mobile-users", "travel"})
    assert employee(app, "former.employee@corp.example") is None
    with app.store.read() as uow:
        assert uow.inventory.device(omar_phone).owner == "omar.alharbi@corp.example"
    facts = app.engine.device_facts(omar_phone)  # the fleet index knows the owner's department
    assert facts.owner is not None and facts.owner.department == "Operations"
    again, _ = run_sync(
        app.engine, parse_directory(FIXTURES / "directory" / "people.csv"), "test", T0
    )
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)


def test_scim_sync_resolves_managers_and_aliases(app):
    batch = parse_directory(FIXTURES / "directory" / "scim-users.json")
    assert not batch.rejected
    summary, _ = run_sync(app.engine, batch, "test", T0)
    assert (summary.added, summary.inactive_skipped) == (3, 1)
    maria = employee(app, "maria.garcia@corp.example")
    assert (maria.manager, maria.department, maria.locale) == (
        "david.miller@corp.example",
        "Sales",
        "en-US",
    )
    assert employee(app, "omar.alharbi@corp.example").locale == "ar-SA"
    with app.store.read() as uow:
        assert (
            uow.sources.resolve_owner("MGarcia@corp.onmicrosoft.com") == "maria.garcia@corp.example"
        )
        assert uow.sources.resolve_owner("m.garcia@corp.example") == "maria.garcia@corp.example"


def test_bad_directory_rows(app):
    text = "email,name,department\nnot-an-email,X,Sales\na@corp.example,A,Sales\na@corp.example,A2,HR\n"
    batch = parse_csv(text, "people.csv")
    assert [(p.line, p.field) for p in batch.rejected] == [(2, "email"), (4, "email")]
    with pytest.raises(ImportRejected):
        run_sync(app.engine, batch, "test", T0)
    assert employee(app, "a@corp.example") is None  # all or nothing
    summary, _ = run_sync(app.engine, batch, "test", T0, skip_bad=True)
    assert summary.added == 1 and len(summary.rejected) == 2
    with pytest.raises(ImportRejected, match="unknown column"):
        parse_csv("email,shoe_size\na@corp.example,44\n", "people.csv")


def test_dry_run_sync_writes_nothing(app):
    summary, report = run_sync(
        app.engine, parse_directory(FIXTURES / "directory" / "people.csv"), "test", T0, dry_run=True
    )
    assert summary.dry_run and summary.added == 5 and report is None
    assert employee(app, "maria.garcia@corp.example") is None
