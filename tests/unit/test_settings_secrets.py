"""Secrets never show; notice settings load with their defaults (tests/unit/test_docs.py checks
that docs/settings.md documents every setting)."""

from __future__ import annotations

from appwarden.settings import Settings


def test_secrets_are_masked(tmp_path):
    settings = Settings.load(
        {"home": str(tmp_path)}, env={"APPWARDEN_SMTP_PASSWORD": "hunter2-secret"}
    )
    assert settings.raw("smtp_password") == "hunter2-secret"
    assert "hunter2-secret" not in str(settings.as_dict())


def test_notice_settings_load_with_defaults(tmp_path):
    settings = Settings.load({"home": str(tmp_path)}, env={})
    assert settings.flag("enforcement_requires_notice") is True
    assert settings.duration("notice_undo_window").total_seconds() == 600
