"""Policies back to plain data: the canonical form (stable order, sorted sets) and its digest.

The canonical form is what is stored for each version and what `policy diff` compares; the
digest tells whether applying a file would change anything.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from appwarden.core.inventory import AppPlatform, Platform
from appwarden.core.policy import AppMatcher, Policy
from appwarden.core.timeutil import format_duration, iso


def policy_to_data(policy: Policy) -> dict[str, Any]:
    """The canonical plain-data form of a policy (stable key order, sorted sets)."""
    scope = policy.scope
    rule = policy.rule
    deadline = policy.deadline
    return {
        "slug": policy.slug,
        "title": dict(sorted(policy.title.items())),
        "reason": dict(sorted(policy.reason.items())),
        "owner": policy.owner,
        "scope": {
            "platforms": sorted(p.value for p in scope.platforms),
            "ownership": sorted(o.value for o in scope.ownership),
            "mail_access": "required" if scope.mail_access_only else "any",
            "departments": sorted(scope.departments),
            "groups": sorted(scope.groups),
            "exclude_departments": sorted(scope.exclude_departments),
            "exclude_groups": sorted(scope.exclude_groups),
        },
        "rule": {
            "barred_apps": [_matcher_data(m) for m in rule.barred],
            "minimum_os": {
                p.value: ".".join(map(str, v)) for p, v in sorted(rule.minimum_os.items())
            },
            "minimum_android_patch": rule.minimum_android_patch.isoformat()
            if rule.minimum_android_patch
            else None,
            "maximum_patch_age": format_duration(rule.maximum_patch_age)
            if rule.maximum_patch_age
            else None,
        },
        "deadline": {
            "at": iso(deadline.at),
            "timezone": deadline.timezone,
            "after_publication": format_duration(deadline.after_publication)
            if deadline.after_publication
            else None,
            "late_grace": format_duration(deadline.late_grace) if deadline.late_grace else None,
        },
        "after_deadline": policy.action.value,
        "unknown": policy.unknown.value,
        "remediation": dict(sorted(policy.remediation.items())),
        "notes": policy.notes,
    }


def _matcher_data(matcher: AppMatcher) -> dict[str, str]:
    out = {matcher.kind.value: matcher.value}
    if matcher.platform:
        out["platform"] = matcher.platform.value
    return out


def policy_digest(policy: Policy) -> str:
    canonical = json.dumps(policy_to_data(policy), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def platform_space(value: str) -> AppPlatform:
    return Platform(value).app_space
