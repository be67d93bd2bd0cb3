"""``assay monitor run``'s work: rounds of checks over fresh windows, alert delivery and
retraining, until told to stop."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assay.errors import AssayError, ConfigError
from assay.metadata import ModelVersionRecord, RetrainRecord
from assay.monitoring.check import Checked, Window, check_drift, check_performance
from assay.monitoring.policy import MonitorPolicy, seconds
from assay.monitoring.retrain import Launcher, due_cause, reap_retrains, retrain
from assay.monitoring.webhook import Delivery, Webhook, deliver_pending
from assay.registry import resolve
from assay.workspace import Workspace

__all__ = ["MonitorLoop", "Round"]


@dataclass(frozen=True, slots=True)
class Round:
    """What one round did: the version watched, the checks run (and those skipped for want
    of news), alerts delivered, a retraining, and the problems met."""

    watched: str
    checked: list[Checked] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    delivery: Delivery | None = None
    retrain: RetrainRecord | None = None
    problems: list[str] = field(default_factory=list)


class MonitorLoop:
    """Runs ``policy`` against the store: each round resolves the watched reference (an
    alias is followed as it moves), checks a window of its prediction log when requests or
    labels arrived since the last check, delivers new alerts to the webhook, and starts a
    retraining when the policy's trigger is due.

    Args:
        ws: the open store, acting as the monitor's user.
        policy: the monitoring policy.
        base: the folder the policy's relative paths start from (the policy file's).
        launcher: runs the training pipeline; None: retraining is reported, never started.
        env: where the webhook's secret is read from (``secret_env``).
        clock: the time now, in seconds.
    """

    def __init__(
        self,
        ws: Workspace,
        policy: MonitorPolicy,
        *,
        base: Path,
        launcher: Launcher | None = None,
        env: dict[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ws = ws
        self.policy = policy
        self.base = base
        self.launcher = launcher
        self.clock = clock
        self.hook: Webhook | None = None
        if policy.webhook is not None:
            spec = policy.webhook
            secret = None
            if spec.secret_env is not None:
                secret = (env if env is not None else dict(os.environ)).get(spec.secret_env)
                if not secret:
                    # Sending unsigned alerts to a receiver that checks signatures would lose
                    # them; one that does not would accept forgeries. Neither silently.
                    raise ConfigError(
                        f"webhook.secret_env names {spec.secret_env}, which is not set",
                        hint=f"export {spec.secret_env}=... (the key the receiver checks), "
                        "or drop secret_env to send unsigned alerts",
                    )
            self.hook = Webhook(
                url=spec.url, timeout_s=spec.timeout_s, retries=spec.retries, secret=secret
            )
        # One monitor per model: a retraining left "running" was cut off with its process.
        self.reaped = reap_retrains(ws, policy.model.partition("@")[0])

    def round(self) -> Round:
        """One round of checks, delivery and retraining; problems are reported, not raised."""
        try:
            watched = resolve(self.ws, self.policy.model)
        except AssayError as exc:
            return Round(self.policy.model, problems=[exc.message])
        name = f"{watched.name}@{watched.version}"
        checked: list[Checked] = []
        skipped: list[str] = []
        problems: list[str] = []
        for kind in self.policy.checks:
            try:
                if not self._has_news(watched, kind):
                    skipped.append(kind)
                    continue
                checked.append(self._check(watched, kind))
            except AssayError as exc:
                problems.append(f"{kind} check of {name}: {exc.message}")
        delivery = None
        if self.hook is not None:
            try:
                delivery = deliver_pending(self.ws, self.hook, model=watched.name)
            except AssayError as exc:
                problems.append(f"webhook: {exc.message}")
        retrained = self._retrain(watched, problems)
        return Round(name, checked, skipped, delivery, retrained, problems)

    def run(
        self,
        stop: threading.Event,
        *,
        rounds: int | None = None,
        on_round: Callable[[Round], None] | None = None,
    ) -> int:
        """Run rounds every ``policy.every`` until ``stop`` is set (or ``rounds`` ran); a
        round in progress is finished first. Returns how many rounds ran."""
        interval = seconds(self.policy.every)
        count = 0
        while not stop.is_set() and (rounds is None or count < rounds):
            result = self.round()
            count += 1
            if on_round is not None:
                on_round(result)
            if rounds is not None and count >= rounds:
                break
            stop.wait(interval)
        return count

    def _window(self) -> Window:
        window = self.policy.window
        if isinstance(window, int):
            return Window(last=window)
        return Window(since=self.clock() - seconds(window))

    def _has_news(self, watched: ModelVersionRecord, kind: str) -> bool:
        """Requests answered after the newest one the last check of this kind read (for a
        count window: as many as it holds), or for performance labels stored since that
        check began reading them."""
        last = self.ws.metadata.last_window(watched.name, watched.version, kind)
        if last is None:
            requests, _ = self.ws.metadata.activity(watched.name, watched.version, 0.0)
            return requests > 0
        requests, _ = self.ws.metadata.activity(watched.name, watched.version, last.end_at)
        needed = self.policy.window if isinstance(self.policy.window, int) else 1
        if requests >= needed:
            return True
        if kind != "performance":
            return False
        read_at = float(last.report.get("labels_read_at", last.created_at))
        _, labels = self.ws.metadata.activity(watched.name, watched.version, read_at)
        return labels > 0

    def _check(self, watched: ModelVersionRecord, kind: str) -> Checked:
        ref = f"{watched.name}@{watched.version}"
        p = self.policy
        if kind == "drift":
            return check_drift(self.ws, ref, self._window(), alpha=p.alpha, min_rows=p.min_rows)
        return check_performance(
            self.ws, ref, self._window(), alpha=p.alpha, tolerance=p.tolerance, min_rows=p.min_rows
        )

    def _retrain(self, watched: ModelVersionRecord, problems: list[str]) -> RetrainRecord | None:
        policy = self.policy.retrain
        if policy is None:
            return None
        try:
            cause = due_cause(self.ws, policy, watched, base=self.base, now=self.clock())
        except (AssayError, OSError) as exc:
            problems.append(f"retraining trigger: {exc}")
            return None
        if cause is None:
            return None
        if self.launcher is None:
            problems.append(f"retraining due ({cause.summary}) but not started: no launcher")
            return None
        return retrain(self.ws, policy, watched, cause, self.launcher, base=self.base)
