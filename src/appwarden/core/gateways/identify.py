"""Which identity to look up for a gateway request, or the answer when there is none.

Order of trust, per gateway:
    nginx    verified client certificate > EAS DeviceId (URI, either form) > the rule for
             identity-less requests (open methods such as OPTIONS; then allow, deny or per user)
    dovecot  exempt service logins > certificate fingerprint (Dovecot 2.4.2+) > IMAP ID field >
             the rule for logins without a device (allow, deny or per user)
    postfix  client certificate fingerprint > SASL user > nothing to decide (DUNNO)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from appwarden.core.gateways.answer import GatewayAnswer, Result, fixed, no_identity
from appwarden.core.gateways.eas import EasQueryError, is_eas_path, parse_eas_query, split_uri
from appwarden.core.gateways.imap_id import parse_imap_id
from appwarden.core.gateways.rules import GatewayRules, NoIdentity
from appwarden.core.inventory import identity_key

MAX_IDENTITY = 256


@dataclass(frozen=True, slots=True)
class Ask:
    key: str = ""  # identity key to look up; "" when `fixed` answers
    user: str = ""  # the user (email form) when known, for the log and the locale
    fixed: GatewayAnswer | None = None
    eas_command: str = ""


def _key(kind: str, value: str) -> str:
    return identity_key(kind, value[:MAX_IDENTITY])


def _no_device(rule: NoIdentity, user: str, rules: GatewayRules, code: str) -> Ask:
    if rule is NoIdentity.ALLOW:
        return Ask(user=user, fixed=fixed(True, Result.EXEMPT, code))
    if rule is NoIdentity.USER and user:
        return Ask(key=_key("user", user), user=user)
    return Ask(user=user, fixed=no_identity(rules, rules.default_locale))


def nginx_ask(
    rules: GatewayRules,
    method: str,
    uri: str,
    fingerprint: str = "",
    verify: str = "",
    device_header: str = "",
    remote_user: str = "",
) -> Ask:
    path, query = split_uri(uri)
    eas = None
    if query and is_eas_path(path):
        try:
            eas = parse_eas_query(query)
        except EasQueryError as exc:
            return Ask(fixed=fixed(False, Result.DENIED, f"bad_request: {exc}"))
    user = rules.user_of(eas.user if eas and eas.user else remote_user)
    command = eas.command if eas else ""
    if fingerprint and verify.upper() == "SUCCESS":
        return Ask(_key("cert", fingerprint), user, None, command)
    device = (eas.device_id if eas else "") or device_header.strip()
    if device:
        return Ask(_key("eas", device), user, None, command)
    if method.upper() in rules.nginx_open_methods:
        return Ask(user=user, fixed=fixed(True, Result.EXEMPT, f"open method {method.upper()}"))
    return _no_device(rules.nginx_no_identity, user, rules, "no_identity_allowed")


def dovecot_ask(rules: GatewayRules, body: Mapping[str, object]) -> Ask:
    login = str(body.get("login") or "")
    user = rules.user_of(login)
    exempt = rules.dovecot_exempt(login, str(body.get("remote") or ""), _s(body, "protocol"))
    if exempt:
        return Ask(user=user, fixed=fixed(True, Result.EXEMPT, exempt))
    cert = _s(body, "cert_fp") or _s(body, "ssl_client_cert_fp")
    if cert:
        return Ask(_key("cert", cert), user)
    device = parse_imap_id(_s(body, "device_id")).get(rules.imap_id_field, "").strip()
    if device:
        return Ask(_key("imap", device), user)
    return _no_device(rules.dovecot_no_identity, user, rules, "no_identity_allowed")


def postfix_ask(rules: GatewayRules, attrs: Mapping[str, str]) -> Ask:
    user = rules.user_of(attrs.get("sasl_username", ""))
    cert = attrs.get("ccert_fingerprint", "").strip()
    if cert:
        return Ask(_key("cert", cert), user)
    if user:
        return Ask(_key("user", user), user)
    return Ask(fixed=fixed(True, Result.EXEMPT, "not_authenticated"))


def _s(body: Mapping[str, object], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""
