"""Accelerator benchmark: every model at its large-batch setting, quality on pdcorpus and speed on pdcorpus repeated.

    python experiments/bench_gpu.py                 # on the machine with the accelerator, about 4 minutes
    python experiments/bench_gpu.py --smoke         # any machine, CPU included: under a minute, tiny corpus

For each model (sgns, cbow, sg-hs, fasttext, glove), one run on pdcorpus gives quality (analogy, WS353,
SimLex) beside the CPU default run's figures (experiments/results/bench_cpu.json, measured on a CPU with
the default small batches), and one run on pdcorpus repeated to at least 50M words gives speed (word2vec
and fastText; GloVe's speed run is more epochs over pdcorpus's co-occurrences, whose size does not grow
with repetition). Speed is reported for the whole run (vocabulary, compilation, training) and for the
steady state (the epochs after the first), separately, with the peak device memory where the device
reports it. Writes experiments/results/bench_gpu.json (bench_gpu_smoke.json with --smoke) and a PNG,
naming the device it ran on. Nothing here is an estimate: a figure exists only for the device that ran.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time

from paths import PDCORPUS, RESULTS_DIR

LARGE_BATCH = {"sgns": 16384, "cbow": 16384, "sg-hs": 16384, "fasttext": 16384, "glove": 65536}
"""Examples per update at the large-batch setting (pairs, centre windows or nonzeros: each model's unit)."""
QUALITY_EPOCHS = {"sgns": 5, "cbow": 5, "sg-hs": 5, "fasttext": 5, "glove": 25}
SPEED_WORDS = 50_000_000


def model_config(model: str, batch_size: int, epochs: int, smoke: bool):
    """The model's config at the large-batch setting (its defaults otherwise; smaller tables for --smoke)."""
    from jaxembed.config import make_config
    settings = {"model": model, "batch_size": batch_size, "epochs": epochs}
    if model == "fasttext":
        settings["bucket"] = 200_000 if smoke else 2_000_000
    if smoke:
        settings["dim"] = 32
    return make_config(settings)


def repeated_corpus(source: str, words: int, directory: str) -> tuple[str, int]:
    """A text8-style file of `source` repeated until it holds at least `words` words: (path, copies)."""
    with gzip.open(source, "rb") if source.endswith(".gz") else open(source, "rb") as f:
        text = f.read().strip()
    copies = max(1, -(-words // max(len(text.split()), 1)))
    path = os.path.join(directory, f"repeated_{copies}x.txt")
    with open(path, "wb") as f:
        for _ in range(copies):
            f.write(text + b" ")
    return path, copies


def device_memory() -> dict:
    """Peak and current bytes in use on device 0, where its backend reports them (GPUs and TPUs do; CPUs not)."""
    import jax
    stats = jax.devices()[0].memory_stats() or {}
    return {k: stats[k] for k in ("peak_bytes_in_use", "bytes_in_use", "bytes_limit") if k in stats}


def steady_rates(metrics: dict) -> tuple[float | None, float | None]:
    """(words/s, examples/s) over the epochs after the first (None with one epoch), from metrics.json's fields."""
    seconds, epochs = metrics["epoch_seconds"], len(metrics["epoch_seconds"])
    steady = sum(seconds[1:])
    if epochs < 2 or not steady:
        return None, None
    return metrics["corpus_words"] * (epochs - 1) / steady, metrics["examples"] * (epochs - 1) / epochs / steady


def speed(metrics: dict) -> dict:
    """Whole-run words/s (metrics.json's) and steady-state words/s and examples/s (`steady_rates`)."""
    words, examples = steady_rates(metrics)
    return {"words_per_second": metrics["words_per_second"], "train_seconds": metrics["train_seconds"],
            "steady_words_per_second": words, "steady_examples_per_second": examples,
            "first_epoch_seconds": metrics["epoch_seconds"][0]}


def run_model(model: str, quality_corpus: str, speed_corpus: str, smoke: bool) -> dict:
    """One model's quality run and speed run."""
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import fit
    batch = LARGE_BATCH[model] // (16 if smoke else 1)
    quality = fit(quality_corpus, model_config(model, batch, 1 if smoke else QUALITY_EPOCHS[model], smoke), progress=False)
    evaluation = evaluate_all(quality.vectors)
    speed_epochs = 50 if model == "glove" and not smoke else 2  # a steady state needs an epoch after the first
    speed_run = fit(quality_corpus if model == "glove" else speed_corpus,
                    model_config(model, batch, speed_epochs, smoke), progress=False)
    return {"model": model, "batch_size": quality.metrics.get("batch_size", batch),
            "device_examples": quality.metrics.get("device_examples"),
            "quality": {"epochs": quality.metrics["epochs"], "analogy": evaluation["analogy"]["accuracy"],
                        "wordsim353": evaluation["wordsim353"]["spearman"],
                        "simlex999": evaluation["simlex999"]["spearman"], **speed(quality.metrics)},
            "speed": {"corpus": os.path.basename(speed_run.metrics["corpus"]), "epochs": speed_run.metrics["epochs"],
                      "corpus_words": speed_run.metrics["corpus_words"], **speed(speed_run.metrics)},
            "memory": device_memory()}


def cpu_reference() -> dict:
    """The CPU default run's figures per model (bench_cpu.json: small batches on this project's CPU machine)."""
    path = os.path.join(RESULTS_DIR, "bench_cpu.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        report = json.load(f)
    return {m["model"]: {"machine": report["machine"], **{k: m["jaxembed"].get(k) for k in
                                                          ("words_per_second", "analogy", "wordsim353")}}
            for m in report["models"]}


def plot(report: dict, path: str) -> None:
    """Steady-state words/s per model, and analogy accuracy beside the CPU default run's."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    runs = report["models"]
    names = [r["model"] for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    bars = left.bar(names, [r["speed"]["steady_words_per_second"] or 0 for r in runs], color="tab:green")
    left.bar_label(bars, fmt="%.3g")
    left.set_title("steady-state words/s (GloVe: corpus words per epoch ÷ epoch time)")
    x = range(len(names))
    right.bar([i - 0.2 for i in x], [r["quality"]["analogy"] for r in runs], 0.4, label=f"large batch ({report['device']})")
    right.bar([i + 0.2 for i in x], [(report["cpu_reference"].get(n) or {}).get("analogy") or 0 for n in names], 0.4,
              label="CPU default", color="tab:gray")
    right.set_xticks(list(x), names)
    right.set_title(f"analogy accuracy on {report['quality_corpus']}")
    right.legend(fontsize=8)
    fig.suptitle(f"jaxembed on {report['device']}{' (smoke run)' if report['smoke'] else ''}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS, help="quality corpus (default: pdcorpus)")
    parser.add_argument("--smoke", action="store_true", help="tiny corpus, few epochs: checks the script, not the device")
    parser.add_argument("--models", nargs="+", default=list(LARGE_BATCH), choices=list(LARGE_BATCH))
    parser.add_argument("--out", default=RESULTS_DIR, help="folder for bench_gpu.json and .png")
    args = parser.parse_args()
    from jaxembed.config import reserve_cpu_devices
    reserve_cpu_devices()  # before jax starts: on a CPU, the replicas' devices
    import jax
    device = jax.devices()[0]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus
        if args.smoke:  # the first 60k words of the demo corpus
            from jaxembed.cli import DEMO_CORPUS
            with gzip.open(DEMO_CORPUS, "rb") as f:
                corpus = os.path.join(scratch, "smoke.txt")
                with open(corpus, "wb") as out:
                    out.write(b" ".join(f.read(2_000_000).split()[:60_000]))
        speed_corpus, copies = repeated_corpus(corpus, 120_000 if args.smoke else SPEED_WORDS, scratch)
        runs = []
        for model in args.models:
            runs.append(run_model(model, corpus, speed_corpus, args.smoke))
            r = runs[-1]
            print(f"{model}: steady {r['speed']['steady_words_per_second'] or 0:,.0f} words/s, whole run "
                  f"{r['speed']['words_per_second']:,.0f} words/s; analogy {r['quality']['analogy']:.4f}, "
                  f"WS353 {r['quality']['wordsim353']:.4f}", flush=True)
    report = {"device": f"{device.platform}: {device.device_kind}", "devices": jax.device_count(),
              "backend": jax.default_backend(), "jax": jax.__version__, "smoke": args.smoke,
              "quality_corpus": os.path.basename(corpus), "speed_corpus_copies": copies,
              "seconds": time.perf_counter() - start, "models": runs, "cpu_reference": cpu_reference()}
    os.makedirs(args.out, exist_ok=True)
    name = "bench_gpu_smoke" if args.smoke else "bench_gpu"
    with open(os.path.join(args.out, name + ".json"), "w") as f:
        json.dump(report, f, indent=1)
    plot(report, os.path.join(args.out, name + ".png"))
    print(f"{report['device']}: {report['seconds']:.0f} s; wrote {os.path.join(args.out, name + '.json')}")


if __name__ == "__main__":
    main()
