"""Policy files: every problem names the file, the line, the field and the fix; nothing else escapes.

Texts go through the real located YAML loader (the adapter), so the line numbers checked here
are the ones a user sees.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from appwarden.adapters.policy_files import read_policy_text
from appwarden.core.assess import os_findings
from appwarden.core.errors import PolicyInvalid
from appwarden.core.inventory import Platform
from appwarden.core.policy import Action, MatchKind, Policy, PolicyVersion, UnknownMode
from appwarden.core.policy_data import policy_digest, policy_to_data
from appwarden.core.policy_spec import policy_from_data
from appwarden.core.timeutil import iso

BASE = """\
slug: tiktok-mail
title:
  en: No TikTok
  ar: لا تيك توك
reason:
  en: Security risk
  ar: خطر أمني
owner: security@corp.example
scope:
  platforms: [ios, android]
rule:
  barred_apps:
    - id: com.zhiliaoapp.musically
deadline:
  at: 2020-07-10T18:00
  timezone: America/Los_Angeles
after_deadline: block_mail
unknown: attest
"""
ID_LINE = "    - id: com.zhiliaoapp.musically\n"
AT_LINE = "  at: 2020-07-10T18:00\n"


def variant(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def after(anchor: str, extra: str) -> str:
    return variant(anchor, anchor + extra)


BAD: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "slug not a slug": (variant("slug: tiktok-mail", "slug: TikTok Mail"), [("slug", 1)]),
    "slug missing": (variant("slug: tiktok-mail\n", ""), [("slug", 1)]),
    "arabic title missing": (variant("  ar: لا تيك توك\n", ""), [("title.ar", 2)]),
    "title not per locale": (
        variant("title:\n  en: No TikTok\n  ar: لا تيك توك", "title: No TikTok"),
        [("title", 2)],
    ),
    "title a list": (
        variant("title:\n  en: No TikTok\n  ar: لا تيك توك", "title: [No, TikTok]"),
        [("title", 2)],
    ),
    "locale not a locale": (
        variant("  en: No TikTok", "  english: No TikTok"),
        [("title.english", 3), ("title.en", 2)],
    ),
    "empty text": (variant("  ar: خطر أمني", "  ar: ''"), [("reason.ar", 7)]),
    "owner missing": (variant("owner: security@corp.example\n", ""), [("owner", 1)]),
    "scope not a mapping": (
        variant("scope:\n  platforms: [ios, android]", "scope: everyone"),
        [("scope", 9)],
    ),
    "platform unknown": (
        variant("[ios, android]", "[ios, blackberry]"),
        [("scope.platforms[1]", 10)],
    ),
    "ownership unknown": (
        after("  platforms: [ios, android]\n", "  ownership: [corporate, rented]\n"),
        [("scope.ownership[1]", 11)],
    ),
    "mail access unknown": (
        after("  platforms: [ios, android]\n", "  mail_access: sometimes\n"),
        [("scope.mail_access", 11)],
    ),
    "departments not names": (
        after("  platforms: [ios, android]\n", "  departments: {Sales: 1}\n"),
        [("scope.departments", 11)],
    ),
    "rule checks nothing": (
        variant("  barred_apps:\n" + ID_LINE, "  barred_apps: []\n"),
        [("rule", 11)],
    ),
    "barred apps not a list": (
        variant("  barred_apps:\n" + ID_LINE, "  barred_apps: com.zhiliaoapp.musically\n"),
        [("rule.barred_apps", 12), ("rule", 11)],
    ),
    "item not a mapping": (
        variant(ID_LINE, "    - com.zhiliaoapp.musically\n"),
        [("rule.barred_apps[0]", 13), ("rule", 11)],
    ),
    "item with two kinds": (
        variant(ID_LINE, "    - {id: com.zhiliaoapp.musically, name: TikTok}\n"),
        [("rule.barred_apps[0]", 13), ("rule", 11)],
    ),
    "item with unknown key": (
        variant(ID_LINE, "    - {id: x.y, vendor: ByteDance}\n"),
        [("rule.barred_apps[0].vendor", 13)],
    ),
    "item empty": (
        variant(ID_LINE, "    - id: ''\n"),
        [("rule.barred_apps[0].id", 13), ("rule", 11)],
    ),
    "item not text": (
        variant(ID_LINE, "    - name: {TikTok: Lite}\n"),
        [("rule.barred_apps[0].name", 13), ("rule", 11)],
    ),
    "item platform unknown": (
        variant(ID_LINE, "    - {id: x.y, platform: symbian}\n"),
        [("rule.barred_apps[0].platform", 13)],
    ),
    "jurisdiction not a code": (
        variant(ID_LINE, "    - jurisdiction: China\n"),
        [("rule.barred_apps[0].jurisdiction", 13)],
    ),
    "id with a wildcard": (
        variant(ID_LINE, "    - id: com.ss.*\n"),
        [("rule.barred_apps[0].id", 13)],
    ),
    "id with a space": (
        variant(ID_LINE, "    - id: com example\n"),
        [("rule.barred_apps[0].id", 13)],
    ),
    "minimum os platform unknown": (
        after(ID_LINE, "  minimum_os: {blackberry: '10'}\n"),
        [("rule.minimum_os.blackberry", 14)],
    ),
    "minimum os not a version": (
        after(ID_LINE, "  minimum_os: {ios: latest}\n"),
        [("rule.minimum_os.ios", 14)],
    ),
    "minimum os unquoted (16.10 would become 16.1)": (
        after(ID_LINE, "  minimum_os: {ios: 16.10}\n"),
        [("rule.minimum_os.ios", 14)],
    ),
    "minimum os not a mapping": (
        after(ID_LINE, "  minimum_os: [ios]\n"),
        [("rule.minimum_os", 14)],
    ),
    "patch not a date": (
        after(ID_LINE, "  minimum_android_patch: January\n"),
        [("rule.minimum_android_patch", 14)],
    ),
    "patch a date-time": (
        after(ID_LINE, "  minimum_android_patch: 2024-01-05 10:00:00\n"),
        [("rule.minimum_android_patch", 14)],
    ),
    "patch age not a duration": (
        after(ID_LINE, "  maximum_patch_age: 90 days\n"),
        [("rule.maximum_patch_age", 14)],
    ),
    "deadline missing": (
        variant("deadline:\n" + AT_LINE + "  timezone: America/Los_Angeles\n", ""),
        [("deadline", 1)],
    ),
    "deadline not a mapping": (
        variant("deadline:\n" + AT_LINE + "  timezone: America/Los_Angeles\n", "deadline: soon\n"),
        [("deadline", 14)],
    ),
    "time zone unknown": (
        variant("timezone: America/Los_Angeles", "timezone: Pacific Time"),
        [("deadline.timezone", 16)],
    ),
    "time zone name too long": (
        variant("timezone: America/Los_Angeles", "timezone: " + "Zone" * 80),
        [("deadline.timezone", 16)],
    ),
    "at not a date-time": (variant(AT_LINE, "  at: next friday\n"), [("deadline.at", 15)]),
    "at beyond the calendar": (variant(AT_LINE, "  at: 9999-12-31T23:00\n"), [("deadline.at", 15)]),
    "at and after_publication": (after(AT_LINE, "  after_publication: P14D\n"), [("deadline", 14)]),
    "neither at nor after_publication": (variant(AT_LINE, ""), [("deadline", 14)]),
    "lead time not a duration": (
        variant(AT_LINE, "  after_publication: two weeks\n"),
        [("deadline.after_publication", 15)],
    ),
    "lead time too long": (
        variant(AT_LINE, "  after_publication: P99999999999D\n"),
        [("deadline.after_publication", 15)],
    ),
    "lead time beyond reason": (
        variant(AT_LINE, "  after_publication: P999999D\n"),
        [("deadline.after_publication", 15)],
    ),
    "patch age beyond reason": (
        after(ID_LINE, "  maximum_patch_age: P1000000D\n"),
        [("rule.maximum_patch_age", 14)],
    ),
    "late grace not a duration": (
        after("  timezone: America/Los_Angeles\n", "  late_grace: soon\n"),
        [("deadline.late_grace", 17)],
    ),
    "action unknown": (
        variant("after_deadline: block_mail", "after_deadline: quarantine"),
        [("after_deadline", 17)],
    ),
    "unknown mode unknown": (variant("unknown: attest", "unknown: ignore"), [("unknown", 18)]),
    "remediation locale": (
        BASE + "remediation:\n  English: Remove it\n",
        [("remediation.English", 20)],
    ),
    "unknown top-level key": (BASE + "colour: red\n", [("colour", 19)]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_every_problem_names_file_line_field_and_fix(name: str) -> None:
    text, expected = BAD[name]
    with pytest.raises(PolicyInvalid) as caught:
        read_policy_text(text, "policies/bad.yaml")
    problems = caught.value.problems
    assert [(p.field, p.line) for p in problems] == expected, [p.render() for p in problems]
    for problem in problems:
        assert problem.file == "policies/bad.yaml"
        assert problem.fix, f"{problem.field}: {problem.message} has no fix"
        assert problem.message
        rendered = problem.render()
        assert rendered.startswith(f"policies/bad.yaml:{problem.line}: {problem.field}: ")
        assert " Fix: " in rendered


def test_a_document_that_is_not_a_mapping_is_located_at_its_first_line() -> None:
    with pytest.raises(PolicyInvalid) as caught:
        read_policy_text("- slug: a\n- slug: b\n", "policies/list.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.field) == ("policies/list.yaml", 1, "")
    assert "mapping" in problem.message and problem.fix


def test_all_problems_of_a_file_are_reported_together() -> None:
    text = variant("slug: tiktok-mail", "slug: X")
    text = text.replace("[ios, android]", "[ios, blackberry]").replace(
        "unknown: attest", "unknown: maybe"
    )
    with pytest.raises(PolicyInvalid) as caught:
        read_policy_text(text, "p.yaml")
    assert [p.field for p in caught.value.problems] == ["slug", "scope.platforms[1]", "unknown"]


@pytest.mark.parametrize(
    ("where", "typo", "suggestion"),
    [
        ("", "dedline", "deadline"),
        ("", "titel", "title"),
        ("", "after_deadlin", "after_deadline"),
        ("", "remediaton", "remediation"),
        ("scope", "platfrom", "platforms"),
        ("scope", "exclude_group", "exclude_groups"),
        ("scope", "departement", "departments"),
        ("rule", "barred_app", "barred_apps"),
        ("rule", "minimum_patch", "minimum_android_patch"),
        ("rule", "min_os", "minimum_os"),
        ("deadline", "timezon", "timezone"),
        ("deadline", "late_grce", "late_grace"),
        ("deadline", "after_publish", "after_publication"),
    ],
)
def test_unknown_keys_suggest_the_closest_known_one(where: str, typo: str, suggestion: str) -> None:
    data: dict[str, Any] = yaml.safe_load(BASE)
    target = data[where] if where else data
    target[typo] = target.pop(suggestion) if suggestion in target else "x"
    with pytest.raises(PolicyInvalid) as caught:
        policy_from_data(data, "p.yaml")
    field = f"{where}.{typo}" if where else typo
    matching = [p for p in caught.value.problems if p.field == field]
    assert matching, [p.render() for p in caught.value.problems]
    assert matching[0].message == f"unknown field `{typo}`"
    assert matching[0].fix == f"did you mean `{suggestion}`?"


def test_an_unrelated_unknown_key_lists_what_is_allowed() -> None:
    data: dict[str, Any] = yaml.safe_load(BASE)
    data["scope"]["xyz"] = 1
    with pytest.raises(PolicyInvalid) as caught:
        policy_from_data(data, "p.yaml")
    (problem,) = caught.value.problems
    assert problem.field == "scope.xyz"
    assert problem.fix.startswith("allowed: platforms, ownership, mail_access")


def test_both_at_and_after_publication_is_one_clear_error() -> None:
    with pytest.raises(PolicyInvalid) as caught:
        read_policy_text(BAD["at and after_publication"][0], "p.yaml")
    (problem,) = caught.value.problems
    assert "exactly one of `at:`" in problem.message and "`after_publication:`" in problem.message
    assert "after_publication: P14D" in problem.fix


def test_a_valid_file_gives_the_policy_it_says() -> None:
    policy = read_policy_text(BASE, "p.yaml")
    assert policy.slug == "tiktok-mail" and policy.owner == "security@corp.example"
    assert iso(policy.deadline.at) == "2020-07-11T01:00:00Z"
    assert policy.deadline.timezone == "America/Los_Angeles"
    assert [(m.kind, m.value) for m in policy.rule.barred] == [
        (MatchKind.ID, "com.zhiliaoapp.musically")
    ]
    assert (policy.action, policy.unknown) == (Action.BLOCK_MAIL, UnknownMode.ATTEST)
    assert policy.text("title", "ar-SA") == "لا تيك توك"
    assert policy.text("title", "fr") == "No TikTok"


def test_policies_survive_a_round_trip_through_plain_data() -> None:
    rich = yaml.safe_load(BASE)
    rich["scope"] |= {
        "ownership": ["personal"],
        "mail_access": "any",
        "groups": ["travel"],
        "exclude_departments": ["Legal"],
    }
    rich["rule"] |= {
        "minimum_os": {"ios": "16.4"},
        "minimum_android_patch": "2024-01-05",
        "maximum_patch_age": "P90D",
    }
    rich["rule"]["barred_apps"] += [
        {"parent": "ByteDance", "platform": "android"},
        {"jurisdiction": "us-tx"},
    ]
    rich["deadline"] = {
        "after_publication": "P1DT12H",
        "late_grace": "PT36H",
        "timezone": "Asia/Riyadh",
    }
    rich["remediation"] = {"en": "Remove it", "ar": "احذفه"}
    for data in (yaml.safe_load(BASE), rich):
        policy = policy_from_data(data)
        again = policy_from_data(policy_to_data(policy))
        assert again == policy
        assert policy_digest(again) == policy_digest(policy)
    changed = dict(rich, owner="someone-else@corp.example")
    assert policy_digest(policy_from_data(changed)) != policy_digest(policy_from_data(rich))
    use(policy_from_data(rich))
    assert policy_from_data(rich).deadline.after_publication == timedelta(days=1, hours=12)
    assert policy_from_data(rich).rule.minimum_android_patch == date(2024, 1, 5)


# -- nothing but PolicyInvalid escapes, whatever the input ------------------------------------------
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=40)
    | st.dates()
    | st.datetimes()
    | st.sampled_from(
        [
            "P99999999999999D",
            "P999999D",
            "P999999999D",
            "9999-12-31T23:59",
            "0001-01-01T00:00",
            "Z" * 300,
            "ios",
            "android",
            "CN",
            "US-TX",
            "com.ss.*",
            "P14D",
            "-P1D",
            "en",
            "ar",
        ]
    )
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=12) | st.sampled_from(["en", "ar", "at", "id", "name", "platform"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
PATHS = [
    ("slug",),
    ("title",),
    ("title", "en"),
    ("reason",),
    ("owner",),
    ("scope",),
    ("scope", "platforms"),
    ("scope", "ownership"),
    ("scope", "mail_access"),
    ("scope", "groups"),
    ("rule",),
    ("rule", "barred_apps"),
    ("rule", "minimum_os"),
    ("rule", "minimum_android_patch"),
    ("rule", "maximum_patch_age"),
    ("deadline",),
    ("deadline", "at"),
    ("deadline", "timezone"),
    ("deadline", "after_publication"),
    ("deadline", "late_grace"),
    ("after_deadline",),
    ("unknown",),
    ("remediation",),
    ("notes",),
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3))
def test_any_mangled_policy_is_a_policy_or_a_located_problem(
    edits: list[tuple[tuple[str, ...], Any]],
) -> None:
    data: dict[str, Any] = yaml.safe_load(BASE)
    for path, value in edits:
        target = data
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
    try:
        policy = policy_from_data(data, "fuzz.yaml")
    except PolicyInvalid as exc:
        assert exc.problems and all(p.file == "fuzz.yaml" for p in exc.problems)
        return
    assert policy_from_data(policy_to_data(policy)) == policy
    use(policy)


def use(policy: Policy) -> None:
    """What apply and assess do with a valid policy must not fail either."""
    for published in (datetime(2020, 7, 1, tzinfo=UTC), datetime(2099, 12, 31, tzinfo=UTC)):
        pv = PolicyVersion(policy, 1, published, policy.deadline.resolve(published))
        for platform in Platform:
            os_findings(pv, platform, (1,), date(2000, 1, 1), published)


@given(
    st.integers(0, 10**13),
    st.sampled_from(["D", "W", "H"]),
    st.sampled_from(["after_publication", "late_grace", "maximum_patch_age"]),
)
def test_any_duration_is_usable_or_refused(count: int, unit: str, field: str) -> None:
    data: dict[str, Any] = yaml.safe_load(BASE)
    text = f"PT{count}H" if unit == "H" else f"P{count}{unit}"
    if field == "after_publication":
        data["deadline"] = {"after_publication": text}
    elif field == "late_grace":
        data["deadline"]["late_grace"] = text
    else:
        data["rule"]["maximum_patch_age"] = text
    try:
        policy = policy_from_data(data, "p.yaml")
    except PolicyInvalid as exc:
        assert [p.field.split(".")[-1] for p in exc.problems] == [field]
        return
    use(policy)


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_any_document_at_all_is_a_policy_or_a_located_problem(document: Any) -> None:
    try:
        policy_from_data(document, "fuzz.yaml")
    except PolicyInvalid as exc:
        assert exc.problems


def test_yaml_timestamps_are_read_in_the_stated_zone() -> None:
    """An unquoted YAML date-time is naive: it is placed in `timezone:` like a string would be."""
    data = yaml.safe_load(BASE.replace(AT_LINE, "  at: 2020-07-10 18:00:00\n"))
    assert isinstance(data["deadline"]["at"], datetime)
    assert iso(policy_from_data(data).deadline.at) == "2020-07-11T01:00:00Z"
