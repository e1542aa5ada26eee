"""Child processes with a hard deadline, whose result is one ``RESULT {json}`` line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from .report import ROOT


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_child(module: str, args: list[str], timeout: float,
              env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m module args`` to completion (killed at ``timeout``) and parse its result."""
    cmd = [sys.executable, "-m", module, *args]
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout,
                              env=child_env(env), cwd=str(ROOT))
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{module} did not finish within {timeout:.0f}s") from exc
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (done.stdout + done.stderr)[-2000:]
    raise RuntimeError(f"{module} exited {done.returncode} without a result:\n{tail}")


def spawn(module: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``python -m module``; the caller stops it with :func:`stop`."""
    return subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=child_env(env),
                            cwd=str(ROOT))


def wait_line(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    """The first output line starting with ``prefix`` (the child must print it promptly)."""
    import selectors
    import time

    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise RuntimeError(f"no {prefix!r} line within {timeout}s:\n{''.join(seen[-30:])}")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
