"""`doveadm kick <login>`: close a user's open IMAP/POP3 sessions."""

from __future__ import annotations

import shlex
import subprocess

from appwarden.core.errors import AppWardenError

TIMEOUT_S = 10.0


class KickFailed(AppWardenError):
    """doveadm could not be run or refused."""


class DoveadmKick:
    def __init__(self, command: str) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError("doveadm_kick is empty")

    def __call__(self, login: str) -> str:
        """Kick `login`; returns doveadm's output (the sessions it closed)."""
        if not login or login.startswith("-"):
            raise KickFailed(f"refusing to kick {login!r}")
        try:
            done = subprocess.run(  # noqa: S603 (argv from the operator's setting)
                [*self.argv, login],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KickFailed(f"{self.argv[0]} kick {login}: {exc}") from exc
        # doveadm kick exits 68 (EX_NOUSER) when the user had no session: not a failure
        if done.returncode not in (0, 68):
            raise KickFailed(
                f"{self.argv[0]} kick {login} exited {done.returncode}: {done.stderr.strip()}"
            )
        return done.stdout.strip()
