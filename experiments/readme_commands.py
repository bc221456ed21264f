"""Run every command of README.md as written, in a fresh clone of this repository.

    python experiments/readme_commands.py            # about 15 min on 2 CPU cores

Clones the committed HEAD into a temporary folder and makes a new virtual environment there. Then it
runs each line of every ```bash block of the clone's README (the environment activated, the clone as
the working directory), in order, and after them each ```python block as a script. Writes
experiments/results/readme_commands.json: each command, its exit status, seconds and the end of its
output. Exits 1 if any command fails.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from paths import RESULTS_DIR, machine

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(readme: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(readme) if lang == language]


def commands(block: str) -> list[str]:
    """The block's commands: lines joined at trailing backslashes, blank and comment-only lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def run(argv: list[str], cwd: str, label: str) -> dict:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    row = {"command": label, "status": done.returncode, "seconds": round(time.perf_counter() - start, 1),
           "output_tail": (done.stdout + done.stderr)[-1500:]}
    print(f"[{row['status']}] {row['seconds']:7.1f} s  {label.splitlines()[0][:100]}", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jaxembed-readme-") as work:
        clone = os.path.join(work, "jaxembed")
        subprocess.run(["git", "clone", "--quiet", REPO, clone], check=True)
        commit = subprocess.run(["git", "-C", clone, "rev-parse", "HEAD"], check=True, capture_output=True,
                                text=True).stdout.strip()
        subprocess.run([sys.executable, "-m", "venv", os.path.join(work, "venv")], check=True)
        activate = f"source {os.path.join(work, 'venv', 'bin', 'activate')}"
        with open(os.path.join(clone, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        rows = [run(["bash", "-c", f"{activate} && {command}"], clone, command)
                for block in blocks(readme, "bash") for command in commands(block)]
        rows += [run([os.path.join(work, "venv", "bin", "python"), "-c", code], clone, code.strip())
                 for code in blocks(readme, "python")]
    failed = [r["command"] for r in rows if r["status"]]
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "readme_commands.json"), "w") as f:
        json.dump({"commit": commit, "machine": machine(), "commands": rows, "failed": failed}, f,
                  indent=1)
        f.write("\n")
    print(f"{len(rows) - len(failed)} of {len(rows)} README commands ran as written" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
