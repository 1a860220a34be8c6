"""Every process the drill starts, so an interrupted drill leaves none behind.

The scenarios stop what they start; but a drill stopped from outside (Ctrl-C,
SIGTERM, a timeout) does not reach their ``finally`` blocks in its other
threads. ``started`` records each child process; ``stop_all`` (the drill's
signal handler) kills each by its PID, with gunicorn's workers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path

_children: list[subprocess.Popen[bytes]] = []
_lock = threading.Lock()


def started(process: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
    with _lock:
        _children.append(process)
    return process


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn's workers), from /proc."""
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(status.parent.name))
    return found


def kill(pid: int) -> None:
    """SIGKILL a process and its direct children."""
    for target in [pid, *children_of(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)


def stop_all() -> None:
    with _lock:
        running = [p for p in _children if p.poll() is None]
    for process in running:
        kill(process.pid)
