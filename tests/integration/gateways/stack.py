"""The real gateways of the suite, each in its own folder, on free loopback ports.

nginx, Dovecot and Postfix daemonize and write pid files; SOGo, PostgreSQL and memcached run as
children of the test. Configurations embed the snippets `appwarden gateway config` prints.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from appwarden.adapters.gateways.snippets import (
    SnippetParams,
    dovecot,
    nginx_http,
    nginx_server,
    postfix,
)
from tests.integration.gateways.pki import Pki
from tests.support.servers import free_port, read_pid, run, start_daemon, stop_pid, wait_port

USERS = ("alice", "bob", "carol", "erin")  # erin is unknown to AppWarden
PASSWORD = "secret"


@dataclass
class Daemon:
    name: str
    pid: int
    ports: dict[str, int] = field(default_factory=dict)
    log: Path | None = None
    grace: float = 5.0
    sig: int = signal.SIGTERM

    def stop(self) -> None:
        stop_pid(self.pid, self.grace, self.sig)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""


def _dir(path: Path, mode: int = 0o755) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    return path


# -- nginx -----------------------------------------------------------------------------------
def start_nginx(d: Path, aw_port: int, token: str, backend: str, eas_path: str, pki: Pki) -> Daemon:
    _dir(d)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        _dir(d / "tmp" / sub, 0o777)
    ports = {"http": free_port(), "tls": free_port(), "open": free_port()}
    closed = SnippetParams("127.0.0.1", aw_port, token, backend=backend, eas_path=eas_path)
    opened = SnippetParams(
        "127.0.0.1", aw_port, token, fail_open=True, backend=backend, eas_path=eas_path
    )
    tls = (
        f"ssl_certificate {pki.cert('server')}; ssl_certificate_key {pki.key('server')};\n"
        f"ssl_client_certificate {pki.cert('ca')}; ssl_verify_client optional_no_ca;\n"
    )
    conf = d / "nginx.conf"
    conf.write_text(
        f"worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n"
        "events { worker_connections 1024; }\nhttp {\n  access_log off;\n"
        + "".join(
            f"  {k}_temp_path {d}/tmp/{k.split('_')[0]};\n"
            for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + nginx_http(closed)
        + f"server {{\n listen 127.0.0.1:{ports['http']};\n{nginx_server(closed)}}}\n"
        + f"server {{\n listen 127.0.0.1:{ports['tls']} ssl;\n{tls}{nginx_server(closed)}}}\n"
        + f"server {{\n listen 127.0.0.1:{ports['open']};\n{nginx_server(opened)}}}\n"
        + "}\n"
    )
    code, out = start_daemon(["nginx", "-p", str(d), "-c", str(conf)], d / "start.log")
    if code:
        raise RuntimeError(f"nginx did not start: {out}")
    wait_port(ports["http"])
    return Daemon("nginx", read_pid(d / "nginx.pid"), ports, d / "error.log", sig=signal.SIGQUIT)


# -- Dovecot ---------------------------------------------------------------------------------
def start_dovecot(d: Path, aw_port: int, token: str) -> Daemon:
    _dir(d)
    home = _dir(d / "home", 0o1777)
    ports = {"imap": free_port(), "auth": free_port()}
    (d / "users").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}\n" for u in USERS))
    policy = dovecot(SnippetParams("127.0.0.1", aw_port, token, hash_nonce="gateway-suite"))
    (d / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {d}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={home}/%n
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {ports["imap"]}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  inet_listener sasl {{
    address = 127.0.0.1
    port = {ports["auth"]}
  }}
}}
imap_id_log = *
{policy}"""
    )
    code, out = start_daemon(["dovecot", "-c", str(d / "dovecot.conf")], d / "start.log")
    if code:
        raise RuntimeError(f"dovecot did not start: {out}")
    wait_port(ports["imap"])
    wait_port(ports["auth"])
    return Daemon("dovecot", read_pid(d / "run" / "master.pid"), ports, d / "dovecot.log")


def doveadm_kick_command(d: Path) -> str:
    return f"doveadm -c {d}/dovecot.conf kick"


# -- Postfix ---------------------------------------------------------------------------------
def start_postfix(d: Path, policy_port: int, sasl_port: int, pki: Pki) -> Daemon:
    etc = _dir(d / "etc")
    _dir(d / "spool")
    data = _dir(d / "data")
    shutil.chown(data, "postfix")
    port = free_port()
    snippet = postfix(SnippetParams(policy_host="127.0.0.1", policy_port=policy_port))
    (etc / "main.cf").write_text(
        f"""compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {data}
maillog_file = {d}/maillog
maillog_file_prefixes = /var, /dev/stdout, {d}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.test
mydestination =
mynetworks = 127.0.0.0/8
default_transport = discard:test-discard
relay_transport = discard:test-discard
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{sasl_port}
smtpd_sasl_auth_enable = yes
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = may
smtpd_tls_cert_file = {pki.cert("server")}
smtpd_tls_key_file = {pki.key("server")}
smtpd_tls_CAfile = {pki.cert("ca")}
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_reject_unlisted_recipient = no
smtp_dns_support_level = disabled
in_flow_delay = 0
alias_maps =
alias_database =
{snippet}"""
    )
    master = []
    for line in Path("/etc/postfix/master.cf").read_text().splitlines():
        fields = line.split()
        if line and not line[0].isspace() and not line.startswith("#") and len(fields) >= 8:
            if fields[0] == "smtp" and fields[1] == "inet":
                fields[0] = f"127.0.0.1:{port}"
            fields[4] = "n"  # no chroot
            line = " ".join(fields)
        master.append(line)
    (etc / "master.cf").write_text("\n".join(master) + "\n")
    code, out = start_daemon(
        ["script", "-qc", f"postfix -c {etc} start", "/dev/null"], d / "start.log"
    )
    if code:
        raise RuntimeError(f"postfix did not start: {out}")
    wait_port(port, timeout=20)
    return Daemon(
        "postfix", read_pid(d / "spool" / "pid" / "master.pid"), {"smtp": port}, d / "maillog"
    )


# -- SOGo, with its PostgreSQL and memcached -------------------------------------------------
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def start_postgres(d: Path) -> Daemon:
    _dir(d, 0o755)
    data = d / "pg"
    shutil.chown(d, "postgres")
    port = free_port()
    bin_ = PG_BIN[-1]
    init = subprocess.run([str(bin_ / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                          user="postgres", capture_output=True, text=True, check=False)  # fmt: skip
    if init.returncode:
        raise RuntimeError(f"initdb failed: {init.stderr}")
    start = subprocess.run(
        [str(bin_ / "pg_ctl"), "-D", str(data), "-w", "-l", str(d / "pg.log"), "-o",
         f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
        user="postgres", capture_output=True, text=True, check=False,
    )  # fmt: skip
    if start.returncode:
        raise RuntimeError(f"PostgreSQL did not start: {start.stderr}")
    pid = read_pid(data / "postmaster.pid")
    return Daemon("postgres", pid, {"pg": port}, d / "pg.log", sig=signal.SIGINT, grace=10)


def psql(port: int, user: str, db: str, sql: str) -> None:
    done = run(
        [
            "psql",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            user,
            db,
            "-c",
            sql,
        ]
    )
    if done.returncode:
        raise RuntimeError(f"psql: {done.stderr}")


def start_memcached() -> tuple[Daemon, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen(
        ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-u", "memcache", "-m", "16"]
    )
    wait_port(port)
    return Daemon("memcached", proc.pid, {"memcached": port}), proc


def start_sogo(
    d: Path, pg_port: int, mc_port: int, imap_port: int, smtp_port: int
) -> tuple[Daemon, subprocess.Popen[bytes]]:
    home = _dir(d, 0o755)
    shutil.chown(home, "sogo")
    psql(pg_port, "postgres", "postgres", "CREATE USER sogo PASSWORD 'sogo'")
    psql(pg_port, "postgres", "postgres", "CREATE DATABASE sogo OWNER sogo")
    psql(pg_port, "sogo", "sogo",
         "CREATE TABLE sogo_users (c_uid varchar(128) PRIMARY KEY, c_name varchar(128),"
         " c_password varchar(128), c_cn varchar(128), mail varchar(128));"
         + "".join(f"INSERT INTO sogo_users VALUES ('{u}','{u}','{PASSWORD}','{u}','{u}@corp.test');" for u in USERS))  # fmt: skip
    port = free_port()
    db = f"postgresql://sogo:sogo@127.0.0.1:{pg_port}/sogo"
    source = (f'({{type = sql; id = users; viewURL = "{db}/sogo_users"; canAuthenticate = YES;'
              " isAddressBook = NO; userPasswordAlgorithm = plain;})")  # fmt: skip
    args = {
        "WOUseWatchDog": "NO", "WONoDetach": "YES", "WOPort": f"127.0.0.1:{port}",
        "WOLogFile": str(home / "sogo.log"), "WOPidFile": str(home / "sogo.pid"), "WOWorkersCount": "1",
        "SOGoProfileURL": f"{db}/sogo_user_profile", "OCSFolderInfoURL": f"{db}/sogo_folder_info",
        "OCSSessionsFolderURL": f"{db}/sogo_sessions_folder",
        "OCSEMailAlarmsFolderURL": f"{db}/sogo_alarms_folder", "OCSCacheFolderURL": f"{db}/sogo_cache_folder",
        "SOGoMemcachedHost": f"127.0.0.1:{mc_port}", "SOGoIMAPServer": f"imap://127.0.0.1:{imap_port}",
        "SOGoSMTPServer": f"smtp://127.0.0.1:{smtp_port}", "SOGoMailDomain": "corp.test",
        "SOGoTimeZone": "UTC", "SOGoEnableEMailAlarms": "NO", "SOGoMaximumPingInterval": "60",
        "SOGoMaximumSyncInterval": "60", "SOGoInternalSyncInterval": "10", "SOGoUserSources": source,
    }  # fmt: skip
    argv = ["/usr/sbin/sogod"] + [x for k, v in args.items() for x in (f"-{k}", v)]
    with (home / "sogo.out").open("wb") as out:
        proc = subprocess.Popen(argv, user="sogo", group="sogo", extra_groups=[], cwd=home,
                                env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    # sogod ignores SIGTERM while its EAS loop runs: stop it with SIGKILL after a short grace
    daemon = Daemon("sogo", proc.pid, {"http": port}, home / "sogo.log", grace=1.0)
    try:
        wait_port(port, timeout=20)
    except TimeoutError:
        daemon.stop()
        raise
    time.sleep(0.1)
    return daemon, proc
