"""What the experiment scripts share: their results folder, the benchmark corpus's default path, and the
name of the machine they measure on."""
import os
import platform

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(HERE, "results")
PDCORPUS = os.path.join(HERE, "..", "..", "shared", "data", "pdcorpus.txt.gz")


def cpu_name() -> str:
    """The CPU's model name as /proc/cpuinfo gives it (e.g. "AMD EPYC"), else the platform's processor."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), platform.processor())
    except OSError:
        return platform.processor()


def machine() -> str:
    """The machine a benchmark ran on, for its report: CPU model and core count."""
    return f"{cpu_name()}, {os.cpu_count()} CPU cores"
