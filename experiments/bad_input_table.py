"""Run every bad input of tests/bad_inputs.py through the real command line and print the README table.

    python experiments/bad_input_table.py > experiments/results/bad_inputs.md

Each case runs as its own process (`python -m jaxembed.cli ...`); the table shows the exit status and
the message, with the temporary directory shown as DIR. Fails if any case prints a traceback or
exits with a status other than 2.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from bad_inputs import CASES, materialise  # noqa: E402


MAX_MESSAGE = 200


def run_case(files: dict, argv: str) -> tuple[int, str]:
    """(exit status, stderr with the case directory written as DIR)."""
    with tempfile.TemporaryDirectory() as directory:
        args = materialise(directory, files, argv)
        done = subprocess.run([sys.executable, "-m", "jaxembed.cli", *args], capture_output=True, text=True)
        return done.returncode, done.stderr.replace(directory, "DIR").strip()


def main() -> int:
    print("| bad input | command | message (stderr) | exit |")
    print("|---|---|---|---|")
    failures = 0
    for case, files, argv, _ in CASES:
        code, err = run_case(files, argv)
        failures += code != 2 or "Traceback" in err
        command = "jaxembed " + argv.replace("{d}", "DIR")
        message = err.splitlines()[-1] if err else ""
        message = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + " …"
        print(f"| {case} | `{command}` | `{message}` | {code} |")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
