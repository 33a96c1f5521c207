"""Prometheus text exposition of the gateway counters (GET /metrics on the decision listener)."""

from __future__ import annotations

from collections.abc import Iterable

from appwarden.services.decision_log import DecisionLog


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _metric(name: str, kind: str, help_: str, samples: Iterable[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return lines


def render_metrics(
    log: DecisionLog, revision: int, kicks: int, kick_errors: int, postfix_refused: int
) -> str:
    decisions = [
        (
            f'{{protocol="{_label(p)}",policy="{_label(pol or "none")}",result="{_label(r)}"}}',
            float(n),
        )
        for (p, pol, r), n in sorted(log.counters.items())
    ]
    lines = _metric(
        "appwarden_gateway_decisions_total",
        "counter",
        "Gateway decisions by protocol, policy (none when no policy applied) and result "
        "(allowed, denied, unknown, would_deny, exempt).",
        decisions,
    )
    for name, kind, help_, value in (
        ("appwarden_decision_log_written_total", "counter", "Decisions written.", log.written),
        (
            "appwarden_decision_log_dropped_total",
            "counter",
            "Decisions not logged because the buffer was full or a write failed.",
            log.dropped,
        ),
        (
            "appwarden_decision_log_write_errors_total",
            "counter",
            "Failed writes.",
            log.write_errors,
        ),
        ("appwarden_decision_log_pending", "gauge", "Decisions buffered.", log.pending),
        ("appwarden_decision_index_revision", "gauge", "Decision index revision.", revision),
        ("appwarden_kicks_total", "counter", "doveadm kicks run.", kicks),
        ("appwarden_kick_errors_total", "counter", "doveadm kicks that failed.", kick_errors),
        (
            "appwarden_postfix_refused_total",
            "counter",
            "Postfix policy connections refused (client not allowed).",
            postfix_refused,
        ),
    ):
        lines += _metric(name, kind, help_, [("", float(value))])
    return "\n".join(lines) + "\n"
