"""Device check-ins: authenticate, validate, then apply through the group-commit writer.

Each check-in is validated on the caller's thread (so a bad body never reaches the writer), then
queued. The writer applies a batch of check-ins in one transaction (each in a savepoint, so one
revoked credential or bad delta fails alone), then the engine updates the fleet index,
re-assesses the devices that changed and swaps the decision index, and only then does each
caller get its answer: when a check-in returns, the decision index already reflects it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta

from appwarden.core.errors import AppWardenError, InvalidInput, Problem, Unauthorized
from appwarden.services.checkin_payload import Checkin, parse_checkin, parse_enroll
from appwarden.services.compliance import Compliance
from appwarden.services.enrollment import (
    AGENT_SOURCE,
    CREDENTIAL_PREFIX,
    CodeRequest,
    Enrolled,
    create_code,
    enroll,
    revoke_device,
    secret_hash,
)
from appwarden.services.gc_control import SETTLER
from appwarden.services.group_commit import GroupCommit
from appwarden.services.ingest import Ingest, ReportOutcome
from appwarden.services.ports import DeviceCredential, EnrollmentCode

CACHE_LIMIT = 2_000_000


@dataclass(frozen=True, slots=True)
class CheckinLimits:
    max_bytes: int = 2_000_000
    max_apps: int = 5000
    batch: int = 256
    code_ttl: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class CheckinResult:
    device: str
    status: str  # applied | unchanged | duplicate | outdated
    detail: str = ""
    sequence: int | None = None
    apps: int = 0


@dataclass(frozen=True, slots=True)
class _Job:
    secret_hash: str
    checkin: Checkin


@dataclass(frozen=True, slots=True)
class _Applied:
    outcome: ReportOutcome
    result: CheckinResult


class CheckinService:
    def __init__(
        self, engine: Compliance, limits: CheckinLimits, now: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.limits = limits
        self._now = now
        self._credentials: dict[str, DeviceCredential] = {}
        self._cache_lock = threading.Lock()
        self.writer: GroupCommit[_Job, CheckinResult] = GroupCommit(
            self._apply, limits.batch, "checkin-writer"
        )

    # -- credentials -----------------------------------------------------------------------------
    def authenticate(self, secret: str) -> DeviceCredential:
        """The credential behind a bearer secret (cached; revocation is re-checked on write)."""
        if not secret.startswith(CREDENTIAL_PREFIX):
            raise Unauthorized(f"not a device credential; they start with {CREDENTIAL_PREFIX}")
        digest = secret_hash(secret)
        found = self._credentials.get(digest)
        if found is None:
            with self.engine.store.read() as uow:
                found = uow.enrollments.credential_by_hash(digest)
            if found is None or found.revoked_at is not None:
                raise Unauthorized("unknown or revoked device credential; enrol the device again")
            with self._cache_lock:
                if len(self._credentials) >= CACHE_LIMIT:
                    self._credentials.clear()
                self._credentials[digest] = found
        return found

    def create_code(self, req: CodeRequest, actor: str) -> tuple[EnrollmentCode, str]:
        with self.engine.store.unit_of_work() as uow:
            return create_code(uow, req, actor, self._now(), self.limits.code_ttl)

    def enroll(self, code_secret: str, body: bytes) -> Enrolled:
        report = parse_enroll(self._bounded(body), AGENT_SOURCE)
        enrolled, _ = self.engine.write_reports(
            lambda ingest: enroll(ingest, code_secret, report),
            lambda done: [done.outcome],
            self._now(),
            "enrollment",
            "device",
        )
        self._forget(enrolled.outcome.key)
        return enrolled

    def revoke(self, key: str, actor: str, reason: str) -> list[str]:
        with self.engine.store.unit_of_work() as uow:
            revoked = revoke_device(uow, key, actor, reason, self._now())
        self._forget(key)
        return revoked

    def _forget(self, device: str) -> None:
        with self._cache_lock:
            for digest in [d for d, c in self._credentials.items() if c.device == device]:
                del self._credentials[digest]

    # -- check-ins -------------------------------------------------------------------------------
    def submit(self, secret: str, body: bytes) -> Future[CheckinResult]:
        """Validate now, apply in the next group commit; the future resolves after both."""
        self.authenticate(secret)
        checkin = parse_checkin(self._bounded(body), self.limits.max_apps, AGENT_SOURCE)
        return self.writer.submit(_Job(secret_hash(secret), checkin))

    def checkin(self, secret: str, body: bytes, timeout: float = 30.0) -> CheckinResult:
        return self.submit(secret, body).result(timeout)

    def _bounded(self, body: bytes) -> bytes:
        if len(body) > self.limits.max_bytes:
            raise InvalidInput(
                Problem(
                    f"request body of {len(body)} bytes is larger than {self.limits.max_bytes}",
                    "body",
                    "send fewer apps per check-in (a delta), or raise checkin_max_bytes",
                )
            )
        return body

    def _apply(self, jobs: Sequence[_Job]) -> list[CheckinResult | BaseException]:
        def work(ingest: Ingest) -> list[_Applied | BaseException]:
            results: list[_Applied | BaseException] = []
            for job in jobs:
                try:
                    with ingest.uow.savepoint():
                        results.append(self._one(ingest, job))
                except AppWardenError as exc:
                    results.append(exc)
            return results

        applied, _ = self.engine.write_reports(
            work,
            lambda rs: [r.outcome for r in rs if isinstance(r, _Applied)],
            self._now(),
            "checkin",
            "devices",
        )
        SETTLER.maybe()  # keep full garbage collections short under a steady stream of reports
        return [r.result if isinstance(r, _Applied) else r for r in applied]

    def _one(self, ingest: Ingest, job: _Job) -> _Applied:
        credential = ingest.uow.enrollments.credential_by_hash(job.secret_hash)
        if credential is None or credential.revoked_at is not None:
            with self._cache_lock:
                self._credentials.pop(job.secret_hash, None)
            raise Unauthorized("device credential revoked; enrol the device again")
        checkin = job.checkin
        outcome = ingest.apply(
            checkin.report, key=credential.device, sequence=checkin.sequence, delta=checkin.delta
        )
        if outcome.skipped:
            status = "duplicate" if outcome.skipped.startswith("duplicate") else "outdated"
        else:
            status = "applied" if outcome.changed else "unchanged"
        apps = len(outcome.device.apps) if outcome.device else 0
        result = CheckinResult(outcome.key, status, outcome.skipped, checkin.sequence, apps)
        return _Applied(outcome, result)

    def close(self) -> None:
        self.writer.close()
