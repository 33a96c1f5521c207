"""What the employee page offers to attest: only what an attestation answers, naming the barred
apps a person on that platform would recognise, and the attestation that holds the verdict now."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appwarden.core.exemptions import Attestation
from appwarden.core.inventory import Platform
from appwarden.core.matching import Confidence
from appwarden.core.policy import Action
from appwarden.core.verdict import Finding, FindingKind, Status, Verdict
from appwarden.services import self_attest
from appwarden.services.self_attest import MAX_NAMES, attestable, barred_names, offer_for
from tests.support.builders import T0, policy, version

UNSEEN = Finding(FindingKind.APPS_UNSEEN, detail="apps cannot be seen")
STALE = Finding(FindingKind.DEVICE_STALE, detail="no report for 9 days")
TIKTOK = Finding(
    FindingKind.BARRED_APP, "ios:com.zhiliaoapp.musically", "TikTok", "", Confidence.HIGH
)


def verdict(status: Status, *findings: Finding) -> Verdict:
    return Verdict("p1", "tiktok-mail", 1, status, Action.BLOCK_MAIL, findings)


def att(ident: str, hours: int, revoked: bool = False, policy: str = "tiktok-mail") -> Attestation:
    return Attestation(
        ident,
        "p1",
        policy,
        "anna@corp.example",
        "...",
        T0,
        T0 + timedelta(hours=hours),
        "sig",
        T0 + timedelta(minutes=1) if revoked else None,
    )


@pytest.mark.parametrize(
    ("mode", "status", "findings", "offered"),
    [
        ("attest", Status.UNKNOWN, (UNSEEN,), True),
        ("attest", Status.BLOCKED, (UNSEEN,), True),  # after the deadline: mail already stopped
        ("attest", Status.UNKNOWN, (STALE,), True),  # stopped reporting
        ("attest", Status.COMPLIANT, (UNSEEN,), True),  # an attestation answers it now
        ("attest", Status.PENDING, (TIKTOK,), False),  # the app is seen: remove it instead
        ("attest", Status.BLOCKED, (TIKTOK, UNSEEN), False),
        ("attest", Status.EXEMPT, (UNSEEN,), False),
        ("attest", Status.COMPLIANT, (), False),
        ("block", Status.UNKNOWN, (UNSEEN,), False),  # the policy takes no attestation
        ("allow", Status.UNKNOWN, (UNSEEN,), False),
    ],
)
def test_only_what_an_attestation_answers_is_offered(mode, status, findings, offered):
    pv = version(policy(unknown=mode))
    assert attestable(pv, verdict(status, *findings)) is offered


def test_no_verdict_nothing_to_attest():
    assert not attestable(version(policy()), None)


def test_names_are_those_of_the_devices_platform(compliance):
    pv = version(
        policy(
            rule={
                "barred_apps": [
                    {"id": "com.zhiliaoapp.musically"},
                    {"id": "com.ss.android.ugc.trill", "platform": "android"},
                    {"id": "com.example.uncatalogued", "platform": "ios"},
                    {"name": "TikTok Lite"},
                ]
            }
        )
    )
    ios = barred_names(compliance, pv, Platform.IOS)
    android = barred_names(compliance, pv, Platform.ANDROID)
    assert ios == ["com.example.uncatalogued", "TikTok", "TikTok Lite"]
    assert android == ["TikTok", "TikTok Lite"]  # the catalog's name, never the raw id


def test_a_company_rule_names_its_apps_and_the_offer_says_how_many_more(compliance, monkeypatch):
    pv = version(policy(rule={"barred_apps": [{"parent": "ByteDance"}]}))
    names = barred_names(compliance, pv, Platform.ANDROID)
    assert {"TikTok", "CapCut", "Lemon8"} <= set(names)
    unseen = verdict(Status.UNKNOWN, UNSEEN)
    offer = offer_for(compliance, pv, unseen, Platform.ANDROID, [], T0)
    assert offer is not None and list(offer.apps) == names[:MAX_NAMES]
    monkeypatch.setattr(self_attest, "MAX_NAMES", 3)
    offer = offer_for(compliance, pv, unseen, Platform.ANDROID, [], T0)
    assert offer is not None
    assert (list(offer.apps), offer.more) == (names[:3], len(names) - 3)
    assert offer.more > 0


def test_the_attestation_holding_the_verdict_is_the_longest_valid_one(compliance):
    pv = version(policy())
    held = [
        att("att-short", 2),
        att("att-long", 48),
        att("att-revoked", 96, revoked=True),
        att("att-other-policy", 200, policy="other"),
    ]
    now = T0 + timedelta(hours=1)
    offer = offer_for(compliance, pv, verdict(Status.COMPLIANT, UNSEEN), Platform.IOS, held, now)
    assert offer is not None and offer.attested is not None
    assert offer.attested.id == "att-long"
    later = T0 + timedelta(hours=49)
    offer = offer_for(compliance, pv, verdict(Status.BLOCKED, UNSEEN), Platform.IOS, held, later)
    assert offer is not None and offer.attested is None
