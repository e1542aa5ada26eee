"""Run browser scenarios (tests/browser/run_page.mjs) from pytest tests.

`run_scenario(url, scenario, on_sync=...)` starts the Node script, answers its
`@@sync NAME` lines by calling on_sync(NAME) (the test makes the server do something)
and then releasing the script, and fails the test with the script's own message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "run_page.mjs"
ARTIFACTS = HERE.parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCRIPT_TIMEOUT = 90


@dataclass
class ScenarioResult:
    """What the browser script reported: marks seen and screenshots written."""

    marks: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    stderr: str = ""


def _check_environment() -> None:
    """A missing browser or npm install is a setup error, reported as such (`make test` installs both)."""
    problems = []
    if not Path(CHROMIUM).exists():
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        problems.append("tests/browser/node_modules missing (cd tests/browser && npm install)")
    if not (HERE.parents[1] / "cti_middleware/web/node_modules/socket.io-client").is_dir():
        problems.append("cti_middleware/web/node_modules missing (cd cti_middleware/web && npm install)")
    if shutil.which("node") is None:
        problems.append("node is not installed")
    if problems:
        pytest.fail("browser tests cannot run: " + "; ".join(problems), pytrace=False)


def run_scenario(url: str, scenario: dict, on_sync: Callable[[str], None] | None = None,
                 on_mark: Callable[[str], None] | None = None, timeout: float = SCRIPT_TIMEOUT) -> ScenarioResult:
    """Run one scenario to completion; pytest.fail with the script's explanation if it fails."""
    _check_environment()
    proc = subprocess.Popen(
        ["node", str(SCRIPT), "--url", url, "--scenario", json.dumps(scenario), "--artifacts", str(ARTIFACTS)],
        cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    result = ScenarioResult()
    stderr_lines: list[str] = []
    drain = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True)
    drain.start()
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    failure = ""
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("@@sync "):
                name = line[len("@@sync "):]
                if on_sync:
                    on_sync(name)
                proc.stdin.write(name + "\n")
                proc.stdin.flush()
            elif line.startswith("@@mark "):
                result.marks.append(line[len("@@mark "):])
                if on_mark:
                    on_mark(result.marks[-1])
            elif line.startswith("@@screenshot "):
                result.screenshots.append(Path(line[len("@@screenshot "):]))
            elif line.startswith("FAIL "):
                failure = line[len("FAIL "):]
        code = proc.wait()
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        drain.join(timeout=5)
        proc.stdin.close()
    result.stderr = "".join(stderr_lines)
    if code != 0:
        detail = failure or f"exit code {code} (killed after {timeout}s?)"
        pytest.fail(f"browser scenario {scenario.get('name')!r} failed: {detail}\n--- script log ---\n"
                    f"{result.stderr[-4000:]}", pytrace=False)
    return result
