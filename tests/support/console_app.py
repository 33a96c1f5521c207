"""A real console on real SQLite: a small demo fleet, the scenario policy, one account per role."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from appwarden.adapters.clock import FixedClock
from appwarden.adapters.demo_fleet import DemoShape, generate
from appwarden.adapters.policy_files import read_policy_text
from appwarden.bootstrap import App, build
from appwarden.entrypoints.api.admin import create_api
from appwarden.entrypoints.console import console_routes
from appwarden.services.accounts import save_account
from appwarden.services.inventory import ImportBatch
from appwarden.services.signin import set_password
from appwarden.settings import Settings
from tests.support.builders import T0

ROLES = ("viewer", "author", "approver", "admin")
PASSWORD = "correct horse battery staple"
EMPLOYEE = "employee"


@dataclass
class ConsoleWorld:
    app: App
    clock: FixedClock
    employee_email: str
    employee_device: str
    unseen_device: str

    def asgi(self):  # type: ignore[no-untyped-def]
        return create_api(self.app, extra=console_routes(self.app))

    @staticmethod
    def email(role: str) -> str:
        return f"{role}@corp.example"


def scenario_source() -> str:
    path = resources.files("appwarden") / "data" / "policies" / "tiktok-mail.yaml"
    return path.read_text(encoding="utf-8")


def build_world(home: Path, employees: int = 60, **settings: str) -> ConsoleWorld:
    clock = FixedClock(T0)
    config = Settings.load({"home": str(home), **settings}, env={})
    app = build(config, clock)
    batch = ImportBatch("demo", "console tests")
    for person, devices in generate(DemoShape(employees=employees, seed=11)):
        batch.employees.append(person)
        batch.devices.extend(devices)
    app.engine.import_inventory(batch, "test", T0)
    source = scenario_source()
    app.engine.apply_policy(read_policy_text(source, "t"), source, "setup", "seed", T0)
    app.engine.assess(T0, "test", "test")
    with app.store.unit_of_work() as uow:
        for role in ROLES:
            save_account(uow, ConsoleWorld.email(role), role, "setup", T0, f"{role} person")
            set_password(uow, app.passwords, ConsoleWorld.email(role), PASSWORD, "setup", T0)
    with app.store.read() as uow:
        failing = [v for v in uow.verdicts.all().values() if v.status.value == "pending"]
        unseen = [v for v in uow.verdicts.all().values() if v.status.value == "unknown"]
    device = failing[0].device
    owner = app.engine.fleet.facts(device).device.owner  # type: ignore[union-attr]
    return ConsoleWorld(app, clock, owner or "", device, unseen[0].device if unseen else "")


class LiveServer:
    """The admin API with the console, served by uvicorn on a free loopback port in a thread."""

    def __init__(self, world: ConsoleWorld, port: int = 0) -> None:
        import threading

        import uvicorn

        self.config = uvicorn.Config(
            world.asgi(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        import time

        deadline = time.monotonic() + 20
        while not (self.server.started and self.server.servers):
            if time.monotonic() > deadline:
                raise RuntimeError("console server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
