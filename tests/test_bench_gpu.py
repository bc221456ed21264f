"""The accelerator benchmark's smoke run (experiments/bench_gpu.py --smoke): every model trains at its large-batch
setting on a tiny corpus and the report names the device and holds each figure."""
import json
import math
import os
import subprocess
import sys

EXPERIMENTS = os.path.join(os.path.dirname(__file__), "..", "experiments")


def test_bench_gpu_smoke_run_reports_every_model(tmp_path):
    done = subprocess.run([sys.executable, os.path.join(EXPERIMENTS, "bench_gpu.py"), "--smoke", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(tmp_path / "bench_gpu_smoke.json") as f:
        report = json.load(f)
    assert report["smoke"] and report["device"].startswith(report["backend"])
    assert [r["model"] for r in report["models"]] == ["sgns", "cbow", "sg-hs", "fasttext", "glove"]
    for run in report["models"]:
        speed, quality = run["speed"], run["quality"]
        assert speed["words_per_second"] > 0 and speed["steady_words_per_second"] > 0, run
        assert speed["corpus_words"] >= 120_000 or run["model"] == "glove"
        assert all(math.isfinite(quality[k]) for k in ("analogy", "wordsim353", "simlex999"))
    assert (tmp_path / "bench_gpu_smoke.png").stat().st_size > 0
