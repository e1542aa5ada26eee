"""Figures, their targets and verdicts, the machine they were taken on, the JSON file."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "bench" / "results"


@dataclass
class Figure:
    """One measured number; ``target`` is None for context figures without a goal."""

    bench: str
    name: str
    value: float | None
    unit: str
    target: float | None = None
    better: str = "higher"  # or "lower"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """>= 1.0 means the target is met, whichever direction is better."""
        if self.target is None or self.value is None:
            return None
        if self.better == "higher":
            return self.value / self.target if self.target else None
        return self.target / self.value if self.value else float("inf")

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "NOT MEASURED"
        ratio = self.ratio
        if ratio is None:
            return "info"
        return "MET" if ratio >= 1.0 else "MISSED"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        out["verdict"] = self.verdict
        return out


@dataclass
class BenchResult:
    name: str
    figures: list[Figure] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def print_figure(fig: Figure) -> None:
    target = "" if fig.target is None else (
        f"target {'>=' if fig.better == 'higher' else '<='} {_fmt(fig.target)} {fig.unit}")
    ratio = "" if fig.ratio is None else f"ratio {fig.ratio:.2f}"
    print(f"  {fig.name:<44} {_fmt(fig.value):>12} {fig.unit:<8} {target:<28} {ratio:<11} "
          f"{fig.verdict}" + (f"  ({fig.note})" if fig.note else ""), flush=True)


def machine() -> dict[str, Any]:
    """nproc, CPU model and RAM: the figures mean nothing without them."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram_kb = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    ram_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(ram_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def write_json(results: list[BenchResult], started: float) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(started))
    path = RESULTS_DIR / f"{stamp}.json"
    doc = {
        "started": started,
        "seconds": round(time.time() - started, 1),
        "machine": machine(),
        "benchmarks": [
            {"name": r.name, "seconds": round(r.seconds, 1), "error": r.error, "notes": r.notes,
             "figures": [f.as_dict() for f in r.figures]}
            for r in results
        ],
    }
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def rss_kb(pid: int | str = "self", key: str = "VmRSS") -> int:
    """A process's resident (VmRSS) or peak resident (VmHWM) memory in kB."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]
