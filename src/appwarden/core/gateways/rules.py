"""Gateway rules: what each gateway does with identities AppWarden cannot look up.

Built once from settings (entrypoints do that); pure values here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network


class Protocol(StrEnum):
    API = "api"  # GET /v1/decide
    NGINX = "nginx"  # auth_request (ActiveSync, HTTP mail)
    DOVECOT = "dovecot"  # auth policy (IMAP, POP3, SMTP AUTH through Dovecot SASL)
    POSTFIX = "postfix"  # SMTP access policy delegation


class UnknownAnswer(StrEnum):
    """What a mail identity AppWarden has never seen gets."""

    ALLOW = "allow"
    DENY = "deny"  # with enrolment instructions
    REPORT = "report"  # allowed, and logged as a would-deny ("allow and report")


class NoIdentity(StrEnum):
    """What a request that names no device gets."""

    ALLOW = "allow"
    DENY = "deny"
    USER = "user"  # decide for the user (all of their devices, by the user rule)


Network = IPv4Network | IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """'127.0.0.1, 10.0.0.0/8' -> networks; raises ValueError naming the bad item."""
    out: list[Network] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        try:
            out.append(ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.0/8)") from exc
    return tuple(out)


def in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    if not networks or not address:
        return False
    try:
        ip = ip_address(address.strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def split_list(text: str) -> frozenset[str]:
    return frozenset(p.strip().lower() for p in text.split(",") if p.strip())


@dataclass(frozen=True, slots=True)
class GatewayRules:
    unknown: dict[Protocol, UnknownAnswer] = field(
        default_factory=lambda: dict.fromkeys(Protocol, UnknownAnswer.REPORT)
    )
    nginx_open_methods: frozenset[str] = frozenset({"OPTIONS"})
    nginx_no_identity: NoIdentity = NoIdentity.DENY
    dovecot_no_identity: NoIdentity = NoIdentity.USER
    exempt_networks: tuple[Network, ...] = ()
    exempt_logins: frozenset[str] = frozenset()
    exempt_protocols: frozenset[str] = frozenset()
    imap_id_field: str = "x-device-id"
    login_domain: str = ""
    eas_unknown_status: int = 449
    enroll_url: str = ""
    info_url: str = ""
    default_locale: str = "en"

    def user_of(self, login: str) -> str:
        """The employee email a gateway login stands for ('alice' -> 'alice@corp.example')."""
        login = login.strip().lower()
        if login and "@" not in login and self.login_domain:
            return f"{login}@{self.login_domain.lower()}"
        return login

    def dovecot_exempt(self, login: str, remote: str, protocol: str) -> str:
        """Why a Dovecot login is exempt ('' when it is not)."""
        if login.strip().lower() in self.exempt_logins:
            return "exempt login"
        if protocol.lower() in self.exempt_protocols:
            return f"exempt protocol {protocol.lower()}"
        if in_networks(remote, self.exempt_networks):
            return "exempt network"
        return ""
