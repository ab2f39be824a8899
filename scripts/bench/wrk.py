"""Running wrk with ``bench.lua`` against one endpoint, and reading what it prints."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scripts.bench.endpoints import Endpoint

LUA = Path(__file__).with_name("bench.lua")
MARKER = "BENCH_JSON "


class WrkFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: dict[str, int]

    @property
    def error_count(self) -> int:
        """Socket errors, timeouts and answers that were not 2xx or 3xx: any of them fails the run."""
        return sum(self.errors.values())

    @property
    def failed(self) -> bool:
        return self.error_count > 0 or self.requests == 0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "error_count": self.error_count, "failed": self.failed}


def parse(output: str) -> WrkResult:
    """The result from wrk's standard output: the one line ``bench.lua``'s done() prints."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            return WrkResult(**data)
    raise WrkFailed(f"wrk printed no {MARKER.strip()} line:\n{output[-2000:]}")


def headers(*, cookies: dict[str, str], csrf_token: str = "", post: bool = False) -> list[str]:
    values = []
    if cookies:
        values.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in cookies.items()))
    if csrf_token:
        values.append(f"X-CSRFToken: {csrf_token}")
    if post:
        values.append("Content-Type: application/x-www-form-urlencoded")
    return values


def command(
    *, base_url: str, endpoint: Endpoint, header_lines: list[str], seconds: int, connections: int = 8, threads: int = 2
) -> list[str]:
    args = ["wrk", f"--threads={threads}", f"--connections={connections}", f"--duration={seconds}s", "--timeout=60s"]
    args += ["--script", str(LUA), "--latency"]
    for line in header_lines:
        args += ["--header", line]
    return [*args, base_url + endpoint.paths[0]]


def environment(endpoint: Endpoint, body: str) -> dict[str, str]:
    return {
        **os.environ,
        "BENCH_METHOD": endpoint.method,
        "BENCH_PATHS": " ".join(endpoint.paths),
        "BENCH_BODY": body,
    }


def run(
    *, base_url: str, endpoint: Endpoint, header_lines: list[str], body: str, seconds: int, connections: int = 8
) -> WrkResult:
    args = command(
        base_url=base_url,
        endpoint=endpoint,
        header_lines=header_lines,
        seconds=seconds,
        connections=connections,
        threads=min(2, connections),
    )
    done = subprocess.run(
        args, capture_output=True, text=True, env=environment(endpoint, body), timeout=seconds + 120, check=False
    )
    if done.returncode != 0:
        raise WrkFailed(f"wrk exited with {done.returncode}: {done.stderr.strip() or done.stdout[-2000:]}")
    return parse(done.stdout)
