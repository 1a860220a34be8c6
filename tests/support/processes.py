"""Stopping the servers tests start, by PID, the same way everywhere."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, timeout: float, kill_timeout: float = 10.0) -> int:
    """SIGTERM, wait up to ``timeout`` s, then SIGKILL; return the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=kill_timeout)
    return process.returncode
