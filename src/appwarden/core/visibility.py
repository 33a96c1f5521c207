"""What a source can see of a device's apps, from how the device is enrolled in it.

    enrollment          what it means                                  visibility
    fully_managed       corporate device owner, supervised, ADE, kiosk all
    device_enrollment   MDM profile on the whole device, unsupervised  all (Intune: all for
                                                                       corporate, else managed)
    work_profile        Android work profile (BYOD or COPE)            managed
    user_enrollment     Apple User Enrollment (BYOD)                   managed
    app_protection      app protection (MAM) without enrolment         none
    mail_only           mail sync only (ActiveSync, Google Sync)       none
    agent               AppWarden's own agent: it says what it sees    as reported
    unknown             the source did not say                         all for corporate,
                                                                       managed otherwise

Intune documents that "unmanaged apps will only appear for devices marked as corporate owned",
which is why the source matters as well as the enrolment. A source that does not report apps at
all for a device (Admin SDK iOS devices, say) sees nothing: `none`.
"""

from __future__ import annotations

from enum import StrEnum

from appwarden.core.inventory import Ownership, Visibility


class Enrollment(StrEnum):
    FULLY_MANAGED = "fully_managed"
    DEVICE_ENROLLMENT = "device_enrollment"
    WORK_PROFILE = "work_profile"
    USER_ENROLLMENT = "user_enrollment"
    APP_PROTECTION = "app_protection"
    MAIL_ONLY = "mail_only"
    AGENT = "agent"
    UNKNOWN = "unknown"


# Sources that hide unmanaged apps on personal devices even under full device enrolment.
HIDES_PERSONAL_APPS = frozenset({"intune"})

_FIXED = {
    Enrollment.FULLY_MANAGED: Visibility.ALL,
    Enrollment.WORK_PROFILE: Visibility.MANAGED,
    Enrollment.USER_ENROLLMENT: Visibility.MANAGED,
    Enrollment.APP_PROTECTION: Visibility.NONE,
    Enrollment.MAIL_ONLY: Visibility.NONE,
}


def visibility_for(
    source: str,
    enrollment: Enrollment,
    ownership: Ownership,
    reports_apps: bool = True,
    agent_says: Visibility | None = None,
) -> Visibility:
    """The visibility a report from `source` has, by the table in this module's docstring."""
    if not reports_apps:
        return Visibility.NONE
    fixed = _FIXED.get(enrollment)
    if fixed is not None:
        return fixed
    corporate = ownership is Ownership.CORPORATE
    if enrollment is Enrollment.AGENT:
        return agent_says or Visibility.ALL
    if enrollment is Enrollment.DEVICE_ENROLLMENT:
        hides = source in HIDES_PERSONAL_APPS and not corporate
        return Visibility.MANAGED if hides else Visibility.ALL
    return Visibility.ALL if corporate else Visibility.MANAGED
