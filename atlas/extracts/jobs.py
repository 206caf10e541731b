"""Extract jobs: a thread pool, and one directory per job under ``ATLAS_DATA_DIR/extracts``.

``<job_id>/status.json`` (replaced atomically at each step) is the job's truth, so any API worker
sharing the data directory answers for a job another worker runs. A job runs in the process that
accepted it and lives as long as that process: a job whose process ended before it finished is
reported ``failed`` (on the same host; the worker is named in status.json) and must be submitted
again. Finished jobs and their files are removed after ``ATLAS_EXTRACT_KEEP_HOURS``.

Job ids are 32 random URL-safe characters (``secrets.token_urlsafe(24)``). Each job belongs to
the caller that created it (the API key, or the OIDC subject, and its tier): for anybody else, an
existing job answers exactly like an unknown id (404). Anonymous public callers are one caller,
so for them the unguessable id is what keeps a job private.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from atlas.errors import AtlasError, NotFound, TooManyRequests
from atlas.policy.tiers import Principal
from atlas.settings import Settings
from atlas.stores.files import atomic_write

log = logging.getLogger("atlas.extracts")

Status = Literal["accepted", "running", "successful", "failed"]  # OGC API - Processes codes
_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
_WORKER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class JobNotReady(AtlasError):
    """The job exists but has no file to download (yet, or ever)."""

    status = 409
    code = "NotReady"


@dataclass
class JobState:
    """What status.json holds (``owner`` is a digest and never leaves the server)."""

    job_id: str
    owner: str
    status: Status
    created: str
    tier: str
    query: dict[str, Any]
    estimate: dict[str, Any]
    progress: int = 0
    message: str = "accepted"
    updated: str = ""
    started: str | None = None
    finished: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    worker: str = _WORKER

    def document(self) -> dict[str, Any]:
        """The state as the owner sees it (OGC API - Processes status info, plus the extract's)."""
        return {
            "jobID": self.job_id,
            "type": "process",
            "processID": "extract",
            "status": self.status,
            "message": self.message,
            "progress": self.progress,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "updated": self.updated,
            "query": self.query,
            "estimate": self.estimate,
            **({"result": self.result} if self.result else {}),
        }


Work = Callable[[str, dt.datetime, Callable[[float, str], None]], dict[str, Any]]


class ExtractJobs:
    """The job registry of one API process."""

    def __init__(
        self, root: Path, *, workers: int = 2, keep: dt.timedelta, max_active_per_caller: int = 3
    ) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._keep = keep
        self._max_active = max_active_per_caller
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="atlas-extract")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[None]] = {}
        self._owners: dict[str, str] = {}

    # -- API ------------------------------------------------------------------------------

    def submit(
        self,
        principal: Principal,
        work: Work,
        *,
        query: dict[str, Any],
        estimate: dict[str, Any],
    ) -> JobState:
        """Accept a job for ``principal``; ``work(job_id, created, progress)`` runs in the pool."""
        self.purge()
        owner = owner_of(principal)
        with self._lock:
            active = sum(1 for j, o in self._owners.items() if o == owner and self._running(j))
            if active >= self._max_active:
                raise TooManyRequests(
                    f"{active} extracts of yours are still running: wait for one to finish",
                    retry_after=10,
                )
            job_id = secrets.token_urlsafe(24)
            created = dt.datetime.now(dt.UTC)
            state = JobState(
                job_id=job_id,
                owner=owner,
                status="accepted",
                created=_iso(created),
                updated=_iso(created),
                tier=principal.tier.value,
                query=query,
                estimate=estimate,
            )
            (self.root / job_id).mkdir()
            self._save(state)
            self._owners[job_id] = owner
            self._futures[job_id] = self._pool.submit(self._run, state, created, work)
        return state

    def get(self, job_id: str, principal: Principal) -> JobState:
        """The caller's job; NotFound for an unknown id and for somebody else's job alike."""
        state = self._load(job_id) if _ID.match(job_id) else None
        if state is None or state.owner != owner_of(principal):
            raise NotFound(f"extract job '{job_id[:40]}' not found")
        return self._checked_alive(state)

    def archive(self, job_id: str, principal: Principal) -> Path:
        """The zip of the caller's finished job; JobNotReady (409) before or after a failure."""
        state = self.get(job_id, principal)
        if state.status != "successful":
            raise JobNotReady(f"extract job '{job_id}' is {state.status}: no file to download")
        return self.root / job_id / state.result["archive"]

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until a job of this process ends (tests, the CLI)."""
        future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def close(self) -> None:
        """Stop: queued jobs are dropped (reported failed), running ones finish first."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        for job_id, future in list(self._futures.items()):
            if future.cancelled():
                state = self._load(job_id)
                if state is not None:
                    self._finish(state, "failed", "the server stopped before the job ran")

    def purge(self) -> None:
        """Remove jobs finished (or abandoned) more than the keep time ago."""
        limit = dt.datetime.now(dt.UTC) - self._keep
        for job_dir in self.root.iterdir():
            if not job_dir.is_dir() or self._running(job_dir.name):
                continue
            state = self._load(job_dir.name)
            state = self._checked_alive(state) if state is not None else None
            stamp = state.updated if state is not None else None
            when = dt.datetime.fromisoformat(stamp) if stamp else _mtime(job_dir)
            if when < limit and (state is None or state.status in ("successful", "failed")):
                shutil.rmtree(job_dir, ignore_errors=True)
                with self._lock:
                    self._futures.pop(job_dir.name, None)
                    self._owners.pop(job_dir.name, None)

    # -- running ----------------------------------------------------------------------------

    def _running(self, job_id: str) -> bool:
        future = self._futures.get(job_id)
        return future is not None and not future.done()

    def _run(self, state: JobState, created: dt.datetime, work: Work) -> None:
        state.status, state.started, state.message = "running", _iso(_now()), "running"
        self._save(state)

        def progress(percent: float, message: str) -> None:
            state.progress, state.message = int(max(0, min(percent, 99))), message
            self._save(state)

        try:
            result = work(state.job_id, created, progress)
        except AtlasError as exc:
            log.warning("extract %s failed: %s", state.job_id, exc, exc_info=exc.status >= 500)
            message = exc.description if exc.status < 500 else "the extract failed: retry later"
            self._finish(state, "failed", message)
            shutil.rmtree(self.root / state.job_id / "work", ignore_errors=True)
        except Exception:
            log.exception("extract %s failed", state.job_id)
            self._finish(state, "failed", "the extract failed (internal error)")
            shutil.rmtree(self.root / state.job_id / "work", ignore_errors=True)
        else:
            state.result = result
            state.progress = 100
            self._finish(state, "successful", "done")

    def _finish(self, state: JobState, status: Status, message: str) -> None:
        state.status, state.message, state.finished = status, message, _iso(_now())
        self._save(state)

    def _checked_alive(self, state: JobState) -> JobState:
        """A job left unfinished by a process that is gone is failed."""
        if state.status in ("successful", "failed") or _worker_alive(state.worker):
            return state
        state.status, state.message = "failed", "the server stopped before the job finished"
        return state

    # -- files ------------------------------------------------------------------------------

    def _save(self, state: JobState) -> None:
        state.updated = _iso(_now())
        atomic_write(self.root / state.job_id / "status.json", json.dumps(asdict(state)))

    def _load(self, job_id: str) -> JobState | None:
        try:
            data = json.loads((self.root / job_id / "status.json").read_text(encoding="utf-8"))
            return JobState(**data)
        except (OSError, ValueError, TypeError):
            return None


def owner_of(principal: Principal) -> str:
    """A digest naming the caller: tier and key (or OIDC subject, or 'anonymous')."""
    who = f"{principal.tier.value}\n{principal.key_id or principal.name}"
    return hashlib.sha256(who.encode("utf-8")).hexdigest()


def _worker_alive(worker: str) -> bool:
    """Whether the process that runs a job may still be running it."""
    if worker == _WORKER:
        return True
    host, _, rest = worker.partition(":")
    if host != socket.gethostname():
        return True  # another host: it cannot be checked from here
    try:
        os.kill(int(rest.partition(":")[0]), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        pass  # a process of another user holds that pid: assume it is the worker
    return True


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def open_jobs(settings: Settings) -> ExtractJobs:
    """The registry the settings describe, under ``ATLAS_DATA_DIR/extracts``."""
    extracts = settings.extracts
    return ExtractJobs(
        settings.store.data_dir / "extracts",
        workers=extracts.workers,
        keep=dt.timedelta(hours=extracts.keep_hours),
        max_active_per_caller=extracts.max_active_per_caller,
    )
