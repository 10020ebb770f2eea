"""Background jobs: `run` of a scenario or `solve`, as a `netops-agent` child process.

A child process keeps the service responsive (the twin and the agent are CPU-bound)
and is exactly what a person would run by hand. Progress is read from the job's own
log file (the runner logs the intake's incident count and tags each agent step with
its incident id); the result is the command's `--json` output. One job at a time:
DuckDB allows one writer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netops_agent.serve.db import StoreAccess
from netops_agent.serve.errors import HttpError

_INCIDENT_TAG = re.compile(r"\[(IM-\d+)\]")
_INTAKE_COUNT = re.compile(r"'incidents': (\d+)")


@dataclass
class Job:
    id: str
    kind: str
    args: list[str]
    log_path: Path
    started: float = field(default_factory=time.time)
    finished: float | None = None
    state: str = "running"  # running | done | failed
    returncode: int | None = None
    result: Any = None
    error: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    def progress(self) -> dict[str, Any]:
        """What the job's log says so far: incidents raised, which one the agent works."""
        total, seen, last = None, [], ""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            if "netops_agent.intake" in line:
                m = _INTAKE_COUNT.search(line)
                if m:
                    total = (total or 0) + int(m.group(1))
            m = _INCIDENT_TAG.search(line)
            if m and m.group(1) not in seen:
                seen.append(m.group(1))
            if line.strip():
                last = line.split(" ", 3)[-1][:160]
        return {
            "incidents_raised": total,
            "incidents_worked": len(seen),
            "current": seen[-1] if seen and self.state == "running" else None,
            "last_step": last,
            "elapsed_s": round((self.finished or time.time()) - self.started, 1),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "args": self.args,
            "state": self.state,
            "returncode": self.returncode,
            "progress": self.progress(),
            "error": self.error,
            "result": self.result,
        }


class JobManager:
    def __init__(self, access: StoreAccess, workdir: Path | None = None) -> None:
        self.access = access
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="netops-serve-jobs-"))
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def running(self) -> Job | None:
        return next((j for j in self.jobs.values() if j.state == "running"), None)

    def get(self, job_id: str) -> Job:
        from netops_agent.errors import NotFoundError

        job = self.jobs.get(job_id)
        if job is None:
            known = ", ".join(self.jobs) or "none yet"
            raise NotFoundError(f"no job {job_id!r}; jobs of this server: {known}")
        return job

    def start(self, kind: str, args: list[str]) -> Job:
        """Start `netops-agent ARGS --db DB --json` (ARGS begins with the subcommand)."""
        with self._lock:
            busy = self.running()
            if busy is not None:
                raise HttpError(409, f"job {busy.id} ({busy.kind}) is still running; wait for it to finish")
            job_id = f"J-{len(self.jobs) + 1:04d}"
            log_path = self.workdir / f"{job_id}.log"
            cmd = [
                sys.executable,
                "-m",
                "netops_agent.cli.app",
                *args,
                "--db",
                str(self.access.path),
                "--json",
            ]
            env = {**os.environ, "NETOPS_LOG": str(log_path)}  # `run` and `solve` log there
            job = Job(job_id, kind, args, log_path)
            self.access.lend(f"job {job_id} (netops-agent {' '.join(args[:3])})")  # the child writes
            try:
                job.proc = subprocess.Popen(
                    cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
                )
            except OSError:
                self.access.reclaim()
                raise
            self.jobs[job_id] = job
        threading.Thread(target=self._wait, args=(job,), name=f"job-{job_id}", daemon=True).start()
        return job

    def _wait(self, job: Job) -> None:
        assert job.proc is not None
        try:
            out, err = job.proc.communicate()
        finally:
            self.access.reclaim()
        job.returncode = job.proc.returncode
        job.finished = time.time()
        if job.returncode == 0:
            try:
                job.result = json.loads(out.decode() or "null")
            except ValueError:
                job.result = None
            job.state = "done"
        else:
            lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
            job.error = lines[-1] if lines else f"exit code {job.returncode}"
            job.state = "failed"

    def stop_all(self) -> None:
        for job in self.jobs.values():
            if job.state == "running" and job.proc is not None:
                job.proc.terminate()
                try:
                    job.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    job.proc.kill()
