"""Configuration snippets for each gateway, printed by `appwarden gateway config ...`.

The integration tests build their nginx, Dovecot and Postfix configurations from these same
functions, so a snippet that stops working fails the tests. docs/gateways.md explains them.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKEN_PLACEHOLDER = "<GATEWAY_TOKEN>"  # noqa: S105 (a placeholder, not a secret)


@dataclass(frozen=True, slots=True)
class SnippetParams:
    decision_host: str = "127.0.0.1"
    decision_port: int = 8471
    token: str = TOKEN_PLACEHOLDER
    fail_open: bool = False
    cache_seconds: int = 0
    cache_dir: str = "/var/cache/nginx/appwarden"
    backend: str = "https://exchange.example.internal"  # the EAS server nginx protects
    eas_path: str = "/Microsoft-Server-ActiveSync"
    policy_host: str = "127.0.0.1"
    policy_port: int = 8472
    hash_nonce: str = "change-me"

    @property
    def decision_addr(self) -> str:
        host = f"[{self.decision_host}]" if ":" in self.decision_host else self.decision_host
        return f"{host}:{self.decision_port}"


def nginx_http(p: SnippetParams) -> str:
    cache = (
        f"proxy_cache_path {p.cache_dir} keys_zone=appwarden:1m max_size=10m inactive=60s;\n"
        if p.cache_seconds
        else ""
    )
    return (
        "# AppWarden decision service (inside http { })\n"
        "upstream appwarden_decisions {\n"
        f"    server {p.decision_addr};\n"
        "    keepalive 32;                  # answers have empty bodies: connections are reused\n"
        "}\n" + cache
    )


def _cache_lines(p: SnippetParams) -> str:
    if not p.cache_seconds:
        return "    # no cache: a check-in is seen at the very next request\n"
    return (
        "    proxy_cache appwarden;\n"
        "    proxy_cache_key $request_uri|$ssl_client_fingerprint|$remote_user;\n"
        f"    proxy_cache_valid 204 403 {p.cache_seconds}s;   # staleness bound after a check-in\n"
    )


def nginx_check_location(p: SnippetParams) -> str:
    return (
        "location = /_appwarden_check {\n"
        "    internal;\n"
        f"    proxy_pass http://appwarden_decisions/v1/gateway/nginx;\n"
        "    proxy_http_version 1.1;\n"
        '    proxy_set_header Connection "";\n'
        "    proxy_pass_request_body off;                  # never forward the WBXML body\n"
        '    proxy_set_header Content-Length "";\n'
        "    proxy_pass_request_headers off;               # only what AppWarden reads:\n"
        f'    proxy_set_header Authorization "Bearer {p.token}";   # not the phone\'s own\n'
        "    proxy_set_header X-Original-URI $request_uri;   # $arg_* is empty in here\n"
        "    proxy_set_header X-Original-Method $request_method;\n"
        "    proxy_set_header X-Original-User $remote_user;\n"
        "    proxy_set_header X-Client-Verify $ssl_client_verify;\n"
        "    proxy_set_header X-Client-Fingerprint $ssl_client_fingerprint;\n"
        "    proxy_connect_timeout 1s;\n"
        "    proxy_read_timeout 2s;\n" + _cache_lines(p) + "}\n"
    )


def nginx_server(p: SnippetParams) -> str:
    if p.fail_open:
        unavailable = (
            "location @appwarden_unavailable {      # fail OPEN: AppWarden down -> mail flows\n"
            f"    proxy_pass {p.backend};\n"
            "}\n"
        )
    else:
        unavailable = (
            "location @appwarden_unavailable {      # fail CLOSED: AppWarden down -> 503, retry\n"
            "    add_header Retry-After 60 always;\n"
            "    return 503;\n"
            "}\n"
        )
    return (
        "# AppWarden (inside the server { } that serves ActiveSync)\n"
        + nginx_check_location(p)
        + f"location {p.eas_path} {{\n"
        "    auth_request /_appwarden_check;\n"
        "    auth_request_set $appwarden_reason $upstream_http_x_policy_reason;\n"
        "    auth_request_set $appwarden_eas_status $upstream_http_x_eas_status;\n"
        "    auth_request_set $appwarden_decision $upstream_http_x_decision_id;\n"
        "    error_page 403 = @appwarden_denied;\n"
        "    error_page 500 502 504 = @appwarden_unavailable;\n"
        f"    proxy_pass {p.backend};\n"
        "    proxy_read_timeout 3600s;              # Ping and Sync long polls\n"
        "    proxy_send_timeout 3600s;\n"
        "    proxy_set_header Host $host;\n"
        "    proxy_set_header X-Forwarded-For $remote_addr;\n"
        "}\n"
        "location @appwarden_denied {\n"
        "    add_header X-Policy-Reason $appwarden_reason always;\n"
        "    add_header X-AppWarden-Decision $appwarden_decision always;\n"
        "    if ($appwarden_eas_status = 449) { return 449; }   # EAS: provision first\n"
        "    return 403;\n"
        "}\n" + unavailable
    )


def dovecot(p: SnippetParams) -> str:
    fail = (
        "# fail OPEN: a login goes ahead when AppWarden cannot answer\n"
        "auth_policy_reject_on_fail = no\n"
        if p.fail_open
        else "# fail CLOSED: a login is refused when AppWarden cannot answer\n"
        "auth_policy_reject_on_fail = yes\n"
    )
    return (
        "# AppWarden auth policy (Dovecot 2.3; e.g. conf.d/95-appwarden.conf)\n"
        f"auth_policy_server_url = http://{p.decision_addr}/v1/gateway/dovecot\n"
        f"auth_policy_server_api_header = Authorization: Bearer {p.token}\n"
        f"auth_policy_hash_nonce = {p.hash_nonce}\n"
        "auth_policy_request_attributes = login=%{requested_username} remote=%{rip} "
        "device_id=%{client_id} protocol=%s session_id=%{session}\n"
        + fail
        + "auth_policy_server_timeout_msecs = 2000\n"
        "# decide only after the password was checked (no probing of blocked devices)\n"
        "auth_policy_check_before_auth = no\n"
        "auth_policy_check_after_auth = yes\n"
        "auth_policy_report_after_auth = no\n"
        "# the client's IMAP ID reaches AppWarden as %{client_id}\n"
        "imap_id_retain = yes\n"
    )


def postfix(p: SnippetParams) -> str:
    action = "DUNNO       # fail OPEN" if p.fail_open else "DEFER_IF_PERMIT   # fail CLOSED (450)"
    host = f"[{p.policy_host}]" if ":" in p.policy_host else p.policy_host
    return (
        "# AppWarden policy for submission (main.cf). Set postfix_policy_port in AppWarden.\n"
        "# per-device client certificates, if your MDM issues them\n"
        "smtpd_tls_ask_ccert = yes\n"
        "# the digest your MDM registers fingerprints with (nginx always uses sha1)\n"
        "smtpd_tls_fingerprint_digest = sha1\n"
        "smtpd_recipient_restrictions =\n"
        f"    check_policy_service {{ inet:{host}:{p.policy_port}, timeout=5s, "
        f"default_action={action.split()[0]} }}\n"
        "    permit_sasl_authenticated, reject\n"
        f"# default_action: {action.split('#', 1)[1].strip()}\n"
    )
