"""One writer per warehouse: a lock file beside the databases, held for a whole run.

`flock` on `<warehouse_dir>/writer.lock`: the kernel drops it when the holding process dies (kill -9,
out of memory), so a lock is never left stale; the file also names its holder (process id, start time,
command, run id) for the message a second run prints. Re-entrant within one process: `jamsostek run`
takes it for the whole run and the Warehouse resource of that run's steps takes it again.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

LOCK_FILE = "writer.lock"
_held: dict[str, tuple[int, int]] = {}  # path -> (fd, depth) held by this process


class WarehouseBusy(Exception):
    """Another process writes this warehouse; the message names it."""


def holder(path: Path) -> dict | None:
    """Who holds (or last held) the lock, as written in the file."""
    try:
        return json.loads(path.read_text() or "null")
    except (OSError, ValueError):
        return None


def describe(info: dict | None) -> str:
    if not info:
        return "another process"
    return (f"process {info.get('pid')} on {info.get('host')}, started {info.get('started')}: "
            f"{info.get('command')}" + (f" (Dagster run {info['run_id']})" if info.get("run_id") else ""))


@contextmanager
def writer_lock(warehouse_dir: Path, *, command: str | None = None, run_id: str | None = None,
                wait_seconds: float = 0) -> Iterator[None]:
    """Hold the warehouse's writer lock; wait at most `wait_seconds`, then raise WarehouseBusy naming the holder."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = warehouse_dir / LOCK_FILE
    key = str(path.resolve())
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _held[key]
            _held[key] = (fd, depth - 1)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise WarehouseBusy(f"{warehouse_dir} is being written by {describe(holder(path))}. "
                                    "One run writes a warehouse at a time: wait for it to finish (or pass "
                                    "--wait SECONDS), then run again.") from None
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": command or " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]), "run_id": run_id}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        _, depth = _held[key]
        if depth <= 1:
            del _held[key]
            os.ftruncate(fd, 0)
            os.close(fd)  # releases the flock
        else:
            _held[key] = (fd, depth - 1)
