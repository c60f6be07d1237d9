"""Server state: background jobs (progress, cancel, result), a small result cache, readiness.

Long work (a cohort, a plan search) runs in a daemon thread of the server
process; the page polls :meth:`Jobs.status` with an interval timer. A job is
cancelled by setting its flag: it reads as cancelled at once, and the job's
progress callback raises :class:`~needlesim.app.services.Cancelled` at its next
report (the chunk in flight finishes and is discarded). Nothing here
blocks a request thread, so one user's long run never blocks another's page.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from .services import Cancelled

MAX_JOBS = 32
"""Finished jobs kept (oldest dropped first)."""


@dataclass
class Job:
    """One background run."""

    id: str
    kind: str
    started: float = field(default_factory=time.time)
    progress: float = 0.0
    state: str = "running"  # running | done | cancelled | failed
    result: Any = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def report(self, fraction: float) -> None:
        """The progress callback handed to the API: stores progress, raises when cancelled."""
        self.progress = float(fraction)
        if self.cancel.is_set():
            raise Cancelled


class Jobs:
    """Thread-safe registry of background jobs."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, kind: str, work: Callable[[Job], Any]) -> Job:
        """Run ``work(job)`` in a daemon thread; its return value becomes ``job.result``."""
        job = Job(uuid.uuid4().hex[:12], kind)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_JOBS:
                self._jobs.popitem(last=False)

        def body() -> None:
            try:
                result = work(job)
                if not job.cancel.is_set():
                    job.result = result
                    job.progress, job.state = 1.0, "done"
            except Cancelled:
                job.state = "cancelled"
            except Exception as exc:  # shown on the page; the server keeps running
                from ..config import ConfigError

                job.error = exc.render() if isinstance(exc, ConfigError) else f"{exc}"
                job.state = "failed"

        threading.Thread(target=body, name=f"needlesim-{kind}-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id or "")

    def cancel(self, job_id: str | None) -> bool:
        job = self.get(job_id)
        if job is None or job.state != "running":
            return False
        job.cancel.set()
        job.state = "cancelled"  # at once for the page; the thread stops at its next report
        return True


class Cache:
    """A small LRU cache of finished results (plans, courses), keyed by their inputs."""

    def __init__(self, size: int = 64) -> None:
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


@dataclass
class Readiness:
    """Whether the model is compiled (``/healthz``) and what warm-up took."""

    ready: threading.Event = field(default_factory=threading.Event)
    warmup_s: float | None = None
    error: str | None = None


JOBS = Jobs()
CACHE = Cache()
READY = Readiness()
SETTINGS: dict[str, Any] = {"evaluator": None, "cohort_evaluator": None}
"""Server settings, for tests only: ``evaluator`` replaces the model in plans,
``cohort_evaluator`` in the Studies page's cohorts (default: ``evaluator``)."""
