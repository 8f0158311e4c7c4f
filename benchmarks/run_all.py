"""Run every benchmark at one size and print their figure lines (`make bench SIZE=S|M|L`).

Each benchmark is its own process (a fresh scratch database, its own peak memory). A benchmark that
fails to run is reported and makes this script exit non-zero; figures below target do not.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        cmd = [sys.executable, str(script), "--size", args.size, "--db", args.db]
        print(f"$ {' '.join(cmd[1:])}", flush=True)
        if subprocess.run(cmd).returncode != 0:
            failed.append(script.name)
    if failed:
        print("could not run: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
