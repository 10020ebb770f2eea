"""Everything `serve` starts for external signals: the writer, the listeners, the notifier.

`ReceiverService` is what the `serve` command builds from its options: the receiver
hub (always, so the Alertmanager endpoint works), a syslog listener with
`--syslog-port`, a trap listener with `--trap-port`, and the notifier with `--notify`.
It starts and stops them together with the web app (its lifespan).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netops_agent.intake.config import DetectionConfig, load_detection
from netops_agent.store import Store

if TYPE_CHECKING:  # annotations only: `serve` starts without the models and notify config
    from netops_agent.models import Incident
    from netops_agent.notify.config import NotifyConfig

log = logging.getLogger("netops_agent.receivers")


@dataclass
class ReceiverOptions:
    host: str = "127.0.0.1"
    syslog_port: int | None = None
    trap_port: int | None = None
    detection: Path | None = None
    notify: NotifyConfig | None = None
    auto_remediate: bool = False


class ReceiverService:
    def __init__(
        self,
        db: Path | str,
        options: ReceiverOptions,
        *,
        lease: Callable[[], AbstractContextManager[Store]] | None = None,
        on_incidents: Callable[[list[Incident]], None] | None = None,
        config: DetectionConfig | None = None,
    ) -> None:
        from netops_agent.receivers.hub import ReceiverHub

        self.options = options
        self.config = config or load_detection(options.detection)
        self._lease = lease or (lambda: Store(db))
        self._work: ThreadPoolExecutor | None = None
        if options.auto_remediate and on_incidents is None:
            on_incidents = self._remediate
        self.hub = ReceiverHub(
            db,
            config=self.config,
            lease=lease,
            on_incidents=on_incidents if options.auto_remediate else None,
        )
        self.db = str(db)
        self._parts: list[Any] = []

    def _remediate(self, incidents: list[Incident]) -> None:
        """Hand new incidents to the agent on its own thread: the writer never waits for it."""
        if self._work is None:
            self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auto-remediate")
        self._work.submit(self._work_incidents, incidents)

    def _work_incidents(self, incidents: list[Incident]) -> None:
        from netops_agent.errors import NetopsError
        from netops_agent.pipeline.interactive import work_incidents
        from netops_agent.settings import lock_wait_s
        from netops_agent.store.writer import writer_lock

        try:  # the agent changes the lab: one lab writer at a time, as with `solve`
            with writer_lock(self.db, "serve auto-remediate", wait_s=lock_wait_s()), self._lease() as store:
                outcomes = work_incidents(store, incidents)
            for o in outcomes:
                log.info("auto-remediate %s: %s", o.incident.id, o.outcome)
        except NetopsError as exc:  # e.g. no lab recorded in this database: nothing to act on
            log.warning("auto-remediate: %s; the incidents wait for a person", exc)
        except Exception:
            log.exception("auto-remediate failed; the incidents wait for a person")

    def router(self, dependencies: Sequence[Any] = ()) -> Any:
        from netops_agent.receivers.api import make_router

        return make_router(self.hub, dependencies=dependencies)

    def start(self, check_db: bool = True) -> ReceiverService:
        self.hub.start(check_db)
        opts = self.options
        try:
            if opts.syslog_port is not None:
                from netops_agent.receivers.syslog import SyslogServer

                self._parts.append(
                    SyslogServer(self.hub.put_event, host=opts.host, port=opts.syslog_port).start()
                )
            if opts.trap_port is not None:
                from netops_agent.receivers.snmp import TrapReceiver

                rx = TrapReceiver(
                    lambda m: self.hub.put_event(m, "snmp"),
                    host=opts.host,
                    port=opts.trap_port,
                    community=self.config.receivers.snmp_community,
                )
                self._parts.append(rx.start())
            if opts.notify is not None and opts.notify.targets:
                from netops_agent.notify.dispatch import Notifier

                self._parts.append(Notifier(self.db, opts.notify).start())
        except Exception:
            self.stop()
            raise
        return self

    def listening(self) -> dict[str, int]:
        """Ports actually bound (a port of 0 picks a free one)."""
        from netops_agent.receivers.snmp import TrapReceiver
        from netops_agent.receivers.syslog import SyslogServer

        out = {}
        for p in self._parts:
            if isinstance(p, SyslogServer):
                out["syslog"] = p.port
            elif isinstance(p, TrapReceiver):
                out["snmp"] = p.port
        return out

    def stop(self) -> None:
        for part in reversed(self._parts):
            try:
                part.stop()
            except Exception:  # stopping the rest matters more than one listener's complaint
                log.exception("stopping %s", type(part).__name__)
        self._parts.clear()
        self.hub.stop()
        if self._work is not None:
            self._work.shutdown(wait=True, cancel_futures=False)
            self._work = None
