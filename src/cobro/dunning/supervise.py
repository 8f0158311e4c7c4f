"""One process tree for `make run`: the web server and the worker as children, stopped together.

``supervise`` starts each command, waits, and stops every child when it gets SIGINT (Ctrl-C),
SIGTERM or SIGHUP, or when one child exits on its own (a web server without a worker would look
fine and send nothing). Stopping is SIGTERM, then SIGKILL after a grace period, and every child is
waited for, so none is left running. On Linux each child also asks the kernel to send it SIGTERM if
the supervisor itself dies without a chance to stop it (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def stop_all(children: dict[str, subprocess.Popen], write: Callable[[str], None], grace: float = 10.0) -> None:
    """SIGTERM to every child still running, SIGKILL to those still there after ``grace`` seconds."""
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            write(f"{name} did not stop within {grace:.0f} s: killed")
            proc.kill()
            proc.wait()


def supervise(commands: dict[str, list[str]], *, env: dict | None = None, write: Callable[[str], None] = print,
              grace: float = 10.0, poll: float = 0.2) -> int:
    """Run ``commands`` (name → argv) until a stop signal (exit 0) or until one exits (its code, or 1)."""
    received: list[int] = []

    def on_signal(signum, _frame):
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    children: dict[str, subprocess.Popen] = {}
    code = 0
    try:
        for name, argv in commands.items():
            children[name] = subprocess.Popen(argv, env=env,
                                              preexec_fn=_die_with_parent if sys.platform == "linux" else None)
            write(f"started {name} (pid {children[name].pid})")
        while not received:
            ended = next(((n, p.returncode) for n, p in children.items() if p.poll() is not None), None)
            if ended is not None:
                write(f"{ended[0]} stopped (exit code {ended[1]}): stopping the others")
                code = ended[1] or 1
                break
            time.sleep(poll)
        if received:
            write(f"{signal.Signals(received[0]).name}: stopping {', '.join(children)}")
    finally:
        stop_all(children, write, grace)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    write("stopped")
    return code
