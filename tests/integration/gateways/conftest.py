"""Fixtures of the gateway suite: one AppWarden listener, one of each real gateway, per session.

Each test starts from the baseline: the clock one hour after the TikTok deadline, the baseline
inventory, and the listener running.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from appwarden.adapters.clock import FixedClock
from tests.integration.gateways import scenario, stack
from tests.integration.gateways.pki import Pki, make_pki
from tests.support.aw_server import AppWardenServer
from tests.support.servers import have, start_daemon

# `./run test` installs every server and sets APPWARDEN_REQUIRE_SERVERS=1: there, a missing
# server is a failure, never a silent skip. Run by hand without the servers, the suite skips.
REQUIRED = os.environ.get("APPWARDEN_REQUIRE_SERVERS") == "1"
MISSING = have("nginx", "dovecot", "doveadm", "postfix", "openssl")
if MISSING or os.geteuid() != 0:
    reason = f"gateway suite needs root and {MISSING or 'the gateways'} (./run test installs them)"
    if REQUIRED:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="session")
def stack_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="aw-gateways-"))
    path.chmod(0o755)  # Dovecot's and nginx's unprivileged processes must reach it
    yield path
    if not os.environ.get("APPWARDEN_KEEP_STACK"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pki(stack_dir: Path) -> Pki:
    return make_pki(stack_dir / "pki")


@pytest.fixture(scope="session")
def aw(stack_dir: Path, pki: Pki) -> Iterator[AppWardenServer]:
    server = AppWardenServer(
        stack_dir / "appwarden",
        FixedClock(scenario.AFTER),
        login_domain="corp.test",
        dovecot_exempt_networks="127.0.0.1/32",  # SOGo and Postfix log in from the mail host
        unknown_nginx="deny",
        unknown_dovecot="deny",
        unknown_postfix="report",
        gateway_info_url="https://intranet.corp.test/mail-policy/{policy}",
        gateway_enroll_url="https://mdm.corp.test/enrol",
        decision_log_mask="none",
        # blocks here are enforced without a campaign: arming by notices has its own tests
        enforcement_requires_notice="false",
        dovecot_exempt_protocols="smtp",  # SMTP AUTH: the Postfix policy decides
        kick_login="localpart",  # Dovecot knows these users as alice, bob...
        doveadm_kick=stack.doveadm_kick_command(stack_dir / "dovecot"),
    )
    scenario.load(server.app.engine, pki.fingerprints)
    server.token = server.create_token()
    server.start()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def baseline(aw: AppWardenServer, pki: Pki) -> None:
    aw.clock.instant = scenario.AFTER
    if aw.runtime is None or aw._loop is None:
        aw.start()
    engine = aw.app.engine
    from appwarden.services.inventory import ImportBatch

    engine.import_inventory(
        ImportBatch("test", "baseline", [], scenario.baseline(pki.fingerprints)),
        "tests",
        scenario.AFTER,
    )


@pytest.fixture(scope="session")
def dovecot(stack_dir: Path, aw: AppWardenServer) -> Iterator[stack.Daemon]:
    daemon = stack.start_dovecot(stack_dir / "dovecot", aw.port, aw.token)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def postfix(
    stack_dir: Path, aw: AppWardenServer, dovecot: stack.Daemon, pki: Pki
) -> Iterator[stack.Daemon]:
    daemon = stack.start_postfix(stack_dir / "postfix", aw.postfix_port, dovecot.ports["auth"], pki)
    yield daemon
    etc = stack_dir / "postfix" / "etc"
    start_daemon(
        ["script", "-qc", f"postfix -c {etc} stop", "/dev/null"],
        stack_dir / "postfix" / "start.log",
    )
    daemon.stop()


@pytest.fixture(scope="session")
def sogo(stack_dir: Path, dovecot: stack.Daemon) -> Iterator[stack.Daemon]:
    missing = have("sogod", "memcached", "psql")
    if missing or not stack.PG_BIN:
        reason = f"SOGo stack needs {missing or 'PostgreSQL server binaries'}"
        if REQUIRED:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    pg = stack.start_postgres(stack_dir / "postgres")
    mc, mc_proc = stack.start_memcached()
    try:
        daemon, sogo_proc = stack.start_sogo(
            stack_dir / "sogo", pg.ports["pg"], mc.ports["memcached"], dovecot.ports["imap"], 0
        )
    except Exception:
        mc.stop()
        mc_proc.wait(10)
        pg.stop()
        raise
    yield daemon
    daemon.stop()
    mc.stop()
    pg.stop()
    for proc in (sogo_proc, mc_proc):
        proc.wait(10)


@pytest.fixture(scope="session")
def nginx(
    stack_dir: Path, aw: AppWardenServer, sogo: stack.Daemon, pki: Pki
) -> Iterator[stack.Daemon]:
    backend = f"http://127.0.0.1:{sogo.ports['http']}"
    daemon = stack.start_nginx(
        stack_dir / "nginx", aw.port, aw.token, backend, "/SOGo/Microsoft-Server-ActiveSync", pki
    )
    yield daemon
    daemon.stop()
