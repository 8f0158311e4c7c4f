"""Load on loopback for B4: the production server (gunicorn, 2 processes) under wrk.

``serve(env)`` starts gunicorn on a free port with the benchmark's database and waits until it
answers; ``wrk(url, ...)`` runs wrk with a Lua script that prints p50/p95/p99 and the error counts
(wrk's own report has no p95). Both are used by bench_api.py and the portal's benchmark.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager

REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(env: dict, workers: int = 2, threads: int = 4):
    """gunicorn with ``workers`` processes on 127.0.0.1; yields the base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cobro.wsgi", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
         "--backlog", "2048", "--log-level", "warning"],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(process.stderr.read().decode()[-2000:]) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(url: str, *, connections: int = 200, seconds: int = 15, threads: int = 2, headers: dict | None = None,
        script: str = "") -> dict:
    """Run wrk and return its figures (latencies in ms, error counts); non-2xx/3xx answers count as errors."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + REPORT)
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
            "-s", f.name]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    run = subprocess.run(args + [url], capture_output=True, text=True, check=True)
    os.unlink(f.name)
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    figures["errors"] = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    figures["rps"] = figures["requests"] / figures["seconds"] if figures["seconds"] else 0.0
    return figures


def verdict(name: str, figures: dict, target_ms: float = 100.0) -> str:
    ok = figures["p95_ms"] <= target_ms and figures["errors"] == 0
    return (f"{name}: {figures['requests']:,} requests in {figures['seconds']:.0f} s ({figures['rps']:,.0f}/s), "
            f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
            f"errors {figures['errors']} (target p95 <= {target_ms:.0f} ms, zero errors: "
            f"{'met' if ok else 'NOT met'})")
