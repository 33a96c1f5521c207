"""Every setting, declared once: name, default, help.

Precedence, lowest first: the defaults below, `<home>/appwarden.toml`, environment variables
`APPWARDEN_<NAME>` (upper-case), then command-line flags. docs/settings.md documents each one; a
test fails when it misses one.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from appwarden.core.errors import InvalidInput, Problem
from appwarden.core.timeutil import TimeFormatError, parse_duration


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: str
    help: str
    kind: str = "str"  # str | int | duration | path | bool | secret
    choices: tuple[str, ...] = ()  # when set, the value must be one of these

    @property
    def env(self) -> str:
        return "APPWARDEN_" + self.name.upper()


_UNKNOWN = ("allow", "deny", "report")
_NO_IDENTITY = ("allow", "deny", "user")

# Mail gateways (issue 4): docs/gateways.md explains each.
GATEWAY_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "unknown_nginx",
        "report",
        "What nginx is told for an EAS DeviceId or certificate AppWarden has never seen: "
        "`allow`, `deny` (with enrolment instructions) or `report` (allow, logged as would-deny).",
        choices=_UNKNOWN,
    ),
    Setting("unknown_dovecot", "report", "The same for Dovecot logins.", choices=_UNKNOWN),
    Setting("unknown_postfix", "report", "The same for Postfix submissions.", choices=_UNKNOWN),
    Setting(
        "unknown_api", "allow", "The same for GET /v1/decide (informational).", choices=_UNKNOWN
    ),
    Setting(
        "nginx_open_methods",
        "OPTIONS",
        "HTTP methods allowed without a device identity (EAS capability discovery), "
        "comma-separated.",
    ),
    Setting(
        "nginx_no_identity",
        "deny",
        "Other nginx requests without a device identity: `allow`, `deny`, or `user` (decide for "
        "the user named in the request).",
        choices=_NO_IDENTITY,
    ),
    Setting(
        "dovecot_no_identity",
        "user",
        "Dovecot logins without a device (no IMAP ID field, no certificate): `allow`, `deny` or "
        "`user` (decide for the login's user).",
        choices=_NO_IDENTITY,
    ),
    Setting(
        "dovecot_exempt_networks",
        "",
        "Comma-separated addresses/networks whose Dovecot logins are exempt (webmail and EAS "
        "servers logging in for their users, e.g. SOGo).",
    ),
    Setting(
        "dovecot_exempt_logins",
        "",
        "Comma-separated logins that are exempt (service accounts).",
    ),
    Setting(
        "dovecot_exempt_protocols",
        "",
        "Comma-separated Dovecot protocols that are exempt, e.g. `smtp` when Postfix SASL "
        "logins go through Dovecot and the Postfix policy decides instead.",
    ),
    Setting("imap_id_field", "x-device-id", "The IMAP ID field that carries the device id."),
    Setting(
        "login_domain",
        "",
        "Domain appended to gateway logins without one (`alice` -> `alice@<domain>`) to find the "
        "employee.",
    ),
    Setting(
        "user_rule",
        "any",
        "Per-user decisions: `any` denies while any of the user's devices is denied, `all` only "
        "while all of them are.",
        choices=("any", "all"),
    ),
    Setting(
        "eas_unknown_status",
        "449",
        "EAS status nginx returns for an unknown device when `unknown_nginx = deny`: 449 (the "
        "client provisions again) or 403.",
        choices=("449", "403"),
    ),
    Setting("gateway_enroll_url", "", "Where people enrol a device (shown when denied)."),
    Setting(
        "gateway_info_url",
        "",
        "Where to read more about a policy (shown when denied); `{policy}` becomes its slug.",
    ),
    Setting("gateway_locale", "en", "Locale of messages when the person is not known."),
    Setting(
        "gateway_fail_mode",
        "closed",
        "What the generated gateway configs do when AppWarden cannot be reached: `closed` "
        "(refuse) or `open` (let mail through).",
        choices=("closed", "open"),
    ),
    Setting(
        "gateway_cache_seconds",
        "0",
        "Seconds nginx may cache an answer (0 = never; at most 10). A check-in is seen by nginx "
        "after at most this long.",
        "int",
    ),
    Setting("postfix_policy_host", "127.0.0.1", "Address the Postfix policy listener binds."),
    Setting("postfix_policy_port", "0", "Port of the Postfix policy listener; 0 = off.", "int"),
    Setting(
        "postfix_policy_clients",
        "127.0.0.1/32,::1/128",
        "Comma-separated networks allowed to use the Postfix policy listener.",
    ),
    Setting(
        "doveadm_kick",
        "",
        "Command that closes a user's IMAP sessions when their device's block starts, e.g. "
        "`doveadm kick` (the login is appended); empty = off.",
    ),
    Setting(
        "kick_login",
        "email",
        "Which login `doveadm kick` gets: the owner's `email` or its `localpart`.",
        choices=("email", "localpart"),
    ),
    Setting(
        "decision_log_buffer",
        "20000",
        "Decisions buffered in memory before the log drops (and counts) new ones.",
        "int",
    ),
    Setting(
        "decision_log_flush_ms", "250", "How often buffered decisions are written, in ms.", "int"
    ),
    Setting("decision_log_keep", "P30D", "How long decision-log rows are kept.", "duration"),
    Setting(
        "decision_log_mask",
        "partial",
        "How identities and users appear in the decision log: `none`, `partial` (first and "
        "last characters) or `hash` (salted SHA-256, stable).",
        choices=("none", "partial", "hash"),
    ),
    Setting("decision_log_salt", "", "Salt for `decision_log_mask = hash` (a secret).", "secret"),
)

SETTINGS: tuple[Setting, ...] = (
    Setting("home", ".appwarden", "Folder for the database and local state.", "path"),
    Setting("database", "", "SQLite database file; empty means <home>/appwarden.db.", "path"),
    Setting("policies_dir", "policies", "Folder of policy YAML files (one per policy).", "path"),
    Setting("catalog_local", "", "A local catalog YAML merged into the shipped one.", "path"),
    Setting(
        "clock",
        "system",
        "`system`, or an ISO 8601 instant: the server's clock starts there and runs forward "
        "(replay a deadline without waiting for it).",
    ),
    Setting(
        "min_lead_time",
        "P7D",
        "Shortest allowed time between applying a policy and its deadline; `apply` refuses less "
        "unless overridden with a reason.",
        "duration",
    ),
    Setting("max_exemption", "P180D", "Longest allowed exemption.", "duration"),
    Setting("api_host", "127.0.0.1", "Address the admin API listens on."),
    Setting("api_port", "8470", "Port of the admin API (and the console).", "int"),
    Setting("decision_host", "127.0.0.1", "Address the decision listener (gateways) binds."),
    Setting("decision_port", "8471", "Port of the decision listener for mail gateways.", "int"),
    Setting(
        "assess_interval",
        "PT5M",
        "How often the server re-assesses the fleet in the background (records transitions at "
        "deadlines; decisions do not wait for it).",
        "duration",
    ),
    Setting("log_level", "info", "debug, info, warning or error."),
    Setting(
        "notice_interval",
        "PT15S",
        "How often the server runs the notice machinery: due waves, reminders, blocked and "
        "restored notices, retries.",
        "duration",
    ),
    # -- console and self-service page (docs/console.md) -----------------------------------------
    Setting(
        "console_url",
        "",
        "Public base URL of the console, used in sign-in links sent by e-mail (e.g. "
        "https://appwarden.corp.example); empty means http://<api_host>:<api_port>.",
    ),
    Setting("session_ttl", "PT8H", "How long a console or self-service session lasts.", "duration"),
    Setting(
        "magic_link_ttl", "PT15M", "How long an e-mailed sign-in link stays usable.", "duration"
    ),
    Setting("magic_links_per_hour", "5", "Sign-in links one address may ask for per hour.", "int"),
    Setting(
        "cookie_secure",
        "auto",
        "`auto` marks the session cookie Secure when the request came over HTTPS (directly or "
        "through a proxy that says so); `always` or `never` force it.",
    ),
    Setting(
        "smtp_host",
        "",
        "Mail relay for sign-in links and notices; empty disables e-mail sign-in, and notices are "
        "written as .eml files under <home>/outbox.",
    ),
    Setting("smtp_port", "587", "Port of the mail relay.", "int"),
    Setting("smtp_starttls", "true", "Upgrade the relay connection with STARTTLS.", "bool"),
    Setting("smtp_username", "", "User name for SMTP AUTH; empty sends without AUTH."),
    Setting("smtp_password", "", "Password for SMTP AUTH (a secret: never logged).", "secret"),
    Setting(
        "smtp_ca_file", "", "CA bundle that signs the relay's certificate; empty: system.", "path"
    ),
    Setting("mail_from", "appwarden@localhost", "Sender address of mail AppWarden sends."),
    # -- notices and campaigns (docs/notices.md) --
    Setting(
        "enforcement_requires_notice",
        "true",
        "A block_mail verdict denies mail only once an approved, unretracted campaign announced "
        "that block (policy version and deadline) to the device's owner. Turn off only for a "
        "deployment that announces blocks outside AppWarden.",
        "bool",
    ),
    Setting("notice_from", "", "From address of notices; empty means `mail_from`."),
    Setting(
        "notice_verify_url",
        "",
        "Public base URL of the page where an employee checks a notice (the token is appended); "
        "empty means <console_url>/verify/.",
    ),
    Setting(
        "verify_per_minute",
        "30",
        "Notice checks (/verify/<token>) one client address may make per minute; 0: no limit.",
        "int",
    ),
    Setting(
        "notice_templates",
        "",
        "A folder of notice templates (<locale>/subject.txt, body.txt, body.html) that override "
        "or add to the shipped English and Arabic ones.",
        "path",
    ),
    Setting(
        "notice_test_recipients",
        "",
        "Comma-separated addresses that `campaign test` sends to; nothing else receives tests.",
    ),
    Setting(
        "notice_reminders", "P7D,P1D", "Reminders before the deadline (comma-separated durations)."
    ),
    Setting(
        "notice_undo_window",
        "PT10M",
        "After approval, how long notices sit cancellable (`campaign undo`) before the first "
        "leaves.",
        "duration",
    ),
    Setting(
        "campaign_approval_threshold",
        "100",
        "Campaigns reaching more people than this need a second person with the approver role "
        "(campaigns that announce a block or retract always do).",
        "int",
    ),
    Setting("campaign_canary", "1%", "Size of the first wave: a number of people or a share."),
    Setting("campaign_waves", "4", "Waves after the canary.", "int"),
    Setting(
        "campaign_wave_interval",
        "PT1H",
        "Time between waves, during which bounces and replies can halt the campaign.",
        "duration",
    ),
    Setting(
        "campaign_halt_bounce_rate",
        "0.05",
        "Halt before the next wave when more than this share of sent notices bounced.",
    ),
    Setting(
        "campaign_halt_replies",
        "3",
        "Halt before the next wave when more replies than this came back.",
        "int",
    ),
    Setting("smtp_rate", "20", "At most this many messages per second to the relay.", "int"),
    Setting("smtp_timeout", "PT30S", "Timeout of one SMTP conversation step.", "duration"),
    *GATEWAY_SETTINGS,
    # -- inventory (docs/inventory.md) -----------------------------------------------------------
    Setting(
        "source_precedence",
        "checkin,intune,jamf,google-amapi,google-admin,fleet,headwind,native,demo",
        "Comma-separated inventory sources, most trusted first: when two current reports of one "
        "device disagree on a field, the first source in this list wins (the conflict is kept).",
    ),
    Setting(
        "merge_window",
        "P7D",
        "A source's report counts as current while it is at most this much older than the "
        "device's newest report; older reports only fill fields nobody else reports.",
        "duration",
    ),
    Setting(
        "stale_after",
        "P30D",
        "A device that has not reported for this long is stale.",
        "duration",
    ),
    Setting(
        "stale_effect",
        "unknown",
        "What staleness does: `ignore` (judge by the last report), `unknown` (apps count as "
        "unseen; the policy's `unknown:` decides) or `block` (staleness itself fails).",
        choices=("ignore", "unknown", "block"),
    ),
    Setting(
        "checkin_max_bytes", "2000000", "Largest check-in request body accepted, in bytes.", "int"
    ),
    Setting("checkin_max_apps", "5000", "Most apps one check-in may list.", "int"),
    Setting(
        "checkin_batch",
        "256",
        "Most check-ins written in one transaction by the group-commit writer.",
        "int",
    ),
    Setting("enrollment_code_ttl", "P7D", "How long an enrolment code stays usable.", "duration"),
    Setting(
        "attestation_ttl",
        "P30D",
        "How long an employee's attestation holds before it must be signed again.",
        "duration",
    ),
    Setting(
        "signing_key_file",
        "",
        "File with the server secret that signs attestations; empty means "
        "<home>/signing.key, created (mode 600) on first use.",
        "path",
    ),
)
_BY_NAME = {s.name: s for s in SETTINGS}


class Settings:
    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        env = os.environ if env is None else env
        values = {s.name: s.default for s in SETTINGS}
        home = Path(
            str((overrides or {}).get("home") or env.get("APPWARDEN_HOME") or values["home"])
        )
        config = home / "appwarden.toml"
        if config.is_file():
            values.update(_read_config(config))
        for setting in SETTINGS:
            if setting.env in env:
                values[setting.name] = env[setting.env]
        for name, value in (overrides or {}).items():
            if value is not None:
                if name not in _BY_NAME:
                    raise InvalidInput(Problem(f"unknown setting {name!r}", name))
                values[name] = str(value)
        settings = cls(values)
        settings.validate()
        return settings

    def validate(self) -> None:
        problems = []
        for setting in SETTINGS:
            raw = self._values[setting.name]
            try:
                self._convert(setting, raw)
            except (ValueError, TimeFormatError) as exc:
                problems.append(Problem(str(exc), setting.name, f"see `{setting.env}`"))
        if problems:
            raise InvalidInput(problems)

    def _convert(self, setting: Setting, raw: str) -> Any:
        if setting.choices and raw not in setting.choices:
            raise ValueError(f"{raw!r} is not one of: {', '.join(setting.choices)}")
        if setting.kind == "int":
            return int(raw)
        if setting.kind == "duration":
            return parse_duration(raw)
        if setting.kind == "path":
            return Path(raw) if raw else None
        if setting.kind == "bool":
            return raw.lower() in ("1", "true", "yes", "on")
        return raw

    def get(self, name: str) -> Any:
        return self._convert(_BY_NAME[name], self._values[name])

    def raw(self, name: str) -> str:
        return self._values[name]

    def duration(self, name: str) -> timedelta:
        value = self.get(name)
        assert isinstance(value, timedelta)
        return value

    @property
    def home(self) -> Path:
        return Path(self._values["home"])

    @property
    def database(self) -> Path:
        raw = self._values["database"]
        return Path(raw) if raw else self.home / "appwarden.db"

    def as_dict(self) -> dict[str, str]:
        """Every value, secrets masked (safe to log or show)."""
        return {
            name: ("********" if _BY_NAME[name].kind == "secret" and value else value)
            for name, value in self._values.items()
        }

    def flag(self, name: str) -> bool:
        return bool(self.get(name))


def _read_config(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(Problem(f"cannot read settings: {exc}", file=str(path))) from exc
    unknown = [k for k in data if k not in _BY_NAME]
    if unknown:
        raise InvalidInput(
            Problem(
                f"unknown setting(s): {', '.join(unknown)}",
                file=str(path),
                fix="docs/settings.md lists every setting",
            )
        )
    return {k: str(v) for k, v in data.items()}
