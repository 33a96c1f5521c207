"""Several sources, one device: field precedence, freshness, conflicts, apps (pure core)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appwarden.core.inventory import Ownership, Visibility
from appwarden.core.sources import (
    MergeRules,
    SourceFacts,
    merge_apps,
    merge_facts,
    normal_imei,
    normal_serial,
    overlay,
)
from appwarden.core.visibility import Enrollment, visibility_for
from tests.support.builders import T0, app

RULES = MergeRules(("checkin", "intune", "jamf"), timedelta(days=7))


def facts(
    source: str, days_ago: float = 0, visibility: Visibility | None = None, **values: str
) -> SourceFacts:
    return SourceFacts(source, T0 - timedelta(days=days_ago), values, (), visibility)


def test_the_first_source_in_precedence_wins_and_the_loser_is_a_conflict():
    merged = merge_facts(
        [
            facts("jamf", os_version="13.5", owner="a@x.com"),
            facts("intune", 1, os_version="13.5.1", owner="a@x.com"),
        ],
        RULES,
    )
    assert merged.values["os_version"] == "13.5.1"
    assert merged.chosen_from["os_version"] == "intune"
    assert [(c.field, c.chosen, c.others) for c in merged.conflicts] == [
        ("os_version", "13.5.1", (("jamf", "13.5"),))
    ]


def test_an_outdated_report_only_fills_gaps_and_never_conflicts():
    merged = merge_facts(
        [
            facts("intune", 30, os_version="12.0", model="iPhone X"),
            facts("jamf", 0, os_version="13.5"),
        ],
        RULES,
    )
    assert merged.values["os_version"] == "13.5"  # intune is outdated: jamf wins despite rank
    assert merged.values["model"] == "iPhone X"  # nobody current knows the model
    assert merged.conflicts == ()
    assert merged.current == frozenset({"jamf"})
    assert merged.last_seen == T0


def test_equal_rank_prefers_the_fresher_report():
    rules = MergeRules((), timedelta(days=7))
    merged = merge_facts([facts("a", 2, name="old"), facts("b", 1, name="new")], rules)
    assert merged.values["name"] == "new"


def test_same_value_spelled_differently_is_not_a_conflict():
    merged = merge_facts(
        [
            facts("intune", serial="f17 zq1x2n72j", owner="A@X.com"),
            facts("jamf", serial="F17ZQ1X2N72J", owner="a@x.com"),
        ],
        RULES,
    )
    assert merged.conflicts == ()


def test_visibility_is_the_best_current_one():
    merged = merge_facts(
        [
            facts("intune", visibility=Visibility.MANAGED),
            facts("checkin", 1, visibility=Visibility.ALL),
        ],
        RULES,
    )
    assert merged.visibility is Visibility.ALL
    none = merge_facts([facts("intune")], RULES)
    assert none.visibility is Visibility.NONE


def test_overlay_keeps_what_a_thinner_report_did_not_say():
    old = facts("intune", 1, Visibility.ALL, os_version="13", owner="a@x.com")
    new = facts("intune", 0, None, os_version="14")
    merged = overlay(old, new)
    assert merged.values == {"os_version": "14", "owner": "a@x.com"}
    assert merged.visibility is Visibility.ALL
    assert merged.observed_at == T0


TIKTOK = app("com.zhiliaoapp.musically", "ios")
OUTLOOK = app("com.microsoft.Office.Outlook", "ios")
WECHAT = app("com.tencent.xin", "ios")


def test_the_freshest_full_list_wins_and_an_older_one_that_disagrees_is_a_conflict():
    when = {"intune": T0, "jamf": T0 - timedelta(days=2)}
    apps, conflict = merge_apps(
        {"intune": [OUTLOOK, TIKTOK], "jamf": [OUTLOOK, WECHAT]}, ["intune", "jamf"], RULES, when
    )
    assert apps == frozenset({OUTLOOK, TIKTOK})
    assert conflict is not None and conflict.field == "apps" and conflict.chosen_source == "intune"
    assert dict(conflict.others) == {
        "jamf": "also lists ios:com.tencent.xin; lacks ios:com.zhiliaoapp.musically"
    }


def test_an_app_removed_since_an_older_full_report_is_gone():
    """The phone's own check-in, newer than the MDM's inventory, no longer lists TikTok."""
    when = {"checkin": T0, "intune": T0 - timedelta(days=1)}
    apps, conflict = merge_apps(
        {"checkin": [OUTLOOK], "intune": [OUTLOOK, TIKTOK]}, ["checkin", "intune"], RULES, when
    )
    assert apps == frozenset({OUTLOOK})
    assert conflict is not None and dict(conflict.others) == {
        "intune": "also lists ios:com.zhiliaoapp.musically"
    }


@pytest.mark.parametrize("latest", ["intune", "jamf"])
def test_between_two_full_lists_of_the_same_instant_the_later_report_wins(latest):
    lists = {"intune": [OUTLOOK, TIKTOK], "jamf": [OUTLOOK]}
    when = {"intune": T0, "jamf": T0}
    apps, _ = merge_apps(lists, ["intune", "jamf"], RULES, when, latest)
    assert apps == frozenset(lists[latest])


def test_managed_only_views_add_apps_only_when_not_older_than_the_full_list():
    lists = {"checkin": [OUTLOOK], "intune": [WECHAT]}
    fresh = {"checkin": T0 - timedelta(hours=1), "intune": T0}
    apps, conflict = merge_apps(lists, ["checkin"], RULES, fresh)
    assert apps == frozenset({OUTLOOK, WECHAT}) and conflict is None
    older = {"checkin": T0, "intune": T0 - timedelta(hours=1)}
    apps, _ = merge_apps(lists, ["checkin"], RULES, older)
    assert apps == frozenset({OUTLOOK})


def test_without_a_full_view_the_apps_are_the_union_and_no_conflict():
    apps, quiet = merge_apps({"intune": [OUTLOOK], "jamf": [OUTLOOK, WECHAT]}, [], RULES)
    assert apps == frozenset({OUTLOOK, WECHAT})
    assert quiet is None  # managed-only views lacking apps are expected, not a conflict


@pytest.mark.parametrize(
    ("raw", "serial"),
    [("F17 ZQ1X2N72J", "F17ZQ1X2N72J"), ("unknown", ""), ("0000000", ""), ("AB1", ""), ("", "")],
)
def test_serials_normalise(raw, serial):
    assert normal_serial(raw) == serial


def test_imeis_compare_on_fourteen_digits():
    assert normal_imei("35 391110 123456 3") == normal_imei("35391110123456") == "35391110123456"
    assert normal_imei("123") == "" and normal_imei("000000000000000") == ""


@pytest.mark.parametrize(
    ("source", "enrollment", "ownership", "reports", "visibility"),
    [
        ("jamf", Enrollment.FULLY_MANAGED, Ownership.CORPORATE, True, Visibility.ALL),
        ("intune", Enrollment.DEVICE_ENROLLMENT, Ownership.CORPORATE, True, Visibility.ALL),
        ("intune", Enrollment.DEVICE_ENROLLMENT, Ownership.PERSONAL, True, Visibility.MANAGED),
        ("jamf", Enrollment.DEVICE_ENROLLMENT, Ownership.PERSONAL, True, Visibility.ALL),
        ("google-amapi", Enrollment.WORK_PROFILE, Ownership.PERSONAL, True, Visibility.MANAGED),
        ("google-amapi", Enrollment.WORK_PROFILE, Ownership.CORPORATE, True, Visibility.MANAGED),
        ("jamf", Enrollment.USER_ENROLLMENT, Ownership.PERSONAL, True, Visibility.MANAGED),
        ("intune", Enrollment.APP_PROTECTION, Ownership.PERSONAL, True, Visibility.NONE),
        ("google-admin", Enrollment.MAIL_ONLY, Ownership.UNKNOWN, True, Visibility.NONE),
        ("intune", Enrollment.UNKNOWN, Ownership.CORPORATE, True, Visibility.ALL),
        ("intune", Enrollment.UNKNOWN, Ownership.UNKNOWN, True, Visibility.MANAGED),
        ("fleet", Enrollment.FULLY_MANAGED, Ownership.CORPORATE, False, Visibility.NONE),
    ],
)
def test_visibility_rules(source, enrollment, ownership, reports, visibility):
    assert visibility_for(source, enrollment, ownership, reports) is visibility


def test_the_agent_reports_its_own_view():
    assert (
        visibility_for("checkin", Enrollment.AGENT, Ownership.PERSONAL, True, Visibility.MANAGED)
        is Visibility.MANAGED
    )
    assert visibility_for("checkin", Enrollment.AGENT, Ownership.PERSONAL) is Visibility.ALL


def test_apps_survive_pickling_with_their_hash_recomputed():
    import pickle

    original = app("com.zhiliaoapp.musically", "ios")
    copy = pickle.loads(pickle.dumps(original))
    assert copy == original and hash(copy) == hash(original) and copy.key == original.key
    assert {copy} == {original}
