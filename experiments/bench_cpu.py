"""CPU speed at equal quality: every model against its peer on one corpus, in one run.

    python experiments/bench_cpu.py --corpus ../shared/data/pdcorpus.txt.gz --seeds 1 2 3

Runs, one after the other on this machine, each with the same settings for both systems:
- sgns, cbow, sg-hs: jaxembed vs gensim (experiments/bench_word2vec.py, once per seed);
- fasttext: jaxembed vs the official fastText (experiments/bench_fasttext.py);
- glove: jaxembed's seconds per epoch vs GloVe C's seconds per iteration (experiments/bench_glove.py):
  with `--glove-c DIR` (a GloVe C checkout built with its Makefile) a run of it on this machine, else the
  reference figure of ../shared/data/README.md (14.8 s), not a same-run measurement, and labelled so.
Collects the whole-run words/s ratio, the analogy ratio and the WS353 difference of each model into
experiments/results/bench_cpu<tag>.json and a bar chart bench_cpu<tag>.png. The per-model benchmark files
(bench_<model><tag>.json/.png) keep every run's details.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from paths import HERE, PDCORPUS, RESULTS_DIR

WORD2VEC_MODELS = ("sgns", "cbow", "sg-hs")
MODELS = WORD2VEC_MODELS + ("fasttext", "glove")
BARS = {"sgns": 1.5, "cbow": 1.2, "sg-hs": 1.0, "fasttext": 1.2}
"""The words/s ratio each model targets against its peer: SGNS ≥ 1.5× gensim, CBOW ≥ 1.2×, skip-gram HS ≥ 1.0×,
fastText ≥ 1.2× the official fastText; GloVe's epoch ≤ 0.7× GloVe C's (1/0.7 as a speed ratio)."""


def run_bench(script: str, flags: list[str], result: str, run: bool = True) -> dict:
    """Run one benchmark script (its output streams through; skipped if not `run`) and return the
    JSON it writes, results/<result>.json."""
    if run:
        subprocess.run([sys.executable, os.path.join(HERE, script), *flags], check=True)
    with open(os.path.join(RESULTS_DIR, result + ".json")) as f:
        return json.load(f)


def pair_summary(model: str, report: dict) -> dict:
    """One model's row: both systems' mean figures and the ratios of the same run."""
    ours, peer = report["systems"]
    row = {"model": model, "peer": peer["system"], "seeds": ours["seeds"], "same_run": True, "machine": report["machine"]}
    for name, system in (("jaxembed", ours), ("peer_figures", peer)):
        row[name] = {"wall_seconds": system["wall_seconds"], "words_per_second": system["words_per_second"],
                     "analogy": system["eval"]["analogy"]["accuracy"], "wordsim353": system["eval"]["wordsim353"]["spearman"],
                     "simlex999": system["eval"]["simlex999"]["spearman"], "sd": system["sd"]}
    row.update(speed_ratio=report["speed_ratio"], analogy_ratio=report["analogy_ratio"],
               wordsim353_diff=report["wordsim353_diff"], speed_bar=BARS[model])
    return row


def glove_summary(report: dict) -> dict:
    """GloVe's row: jaxembed's steady epoch time against GloVe C's time per iteration (of a run beside it with
    `--glove-c`, else the reference figure)."""
    ours, ref = report["jaxembed"], report["glove_c"]
    return {"model": "glove", "peer": ref["system"], "same_run": ref.get("same_run", False), "machine": report["machine"],
            "jaxembed": {"seconds_per_epoch": ours["steady_epoch_seconds"], "analogy": ours["eval"]["analogy"]["accuracy"],
                         "wordsim353": ours["eval"]["wordsim353"]["spearman"]},
            "peer_figures": {"seconds_per_epoch": ref["seconds_per_epoch"], "analogy": ref["analogy"], "wordsim353": ref["wordsim353"]},
            "speed_ratio": ref["seconds_per_epoch"] / ours["steady_epoch_seconds"],
            "analogy_ratio": ours["eval"]["analogy"]["accuracy"] / ref["analogy"],
            "wordsim353_diff": ours["eval"]["wordsim353"]["spearman"] - ref["wordsim353"], "speed_bar": 1 / 0.7}


def plot(report: dict, path: str) -> None:
    """Speed ratio and analogy ratio per model against its peer (1.0 = parity; the bars' targets dashed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = report["models"]
    labels = [r["model"] + ("" if r["same_run"] else "\n(ref. figure)") for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    bars = ax1.bar(labels, [r["speed_ratio"] for r in rows], color="tab:blue")
    ax1.bar_label(bars, fmt="%.2f×")
    for i, r in enumerate(rows):
        ax1.hlines(r["speed_bar"], i - 0.4, i + 0.4, colors="tab:red", linestyles="dashed")
    ax1.axhline(1.0, color="gray", lw=0.8)
    ax1.set_title("jaxembed speed / peer speed (dashed: target)")
    bars = ax2.bar(labels, [r["analogy_ratio"] for r in rows], color="tab:green")
    ax2.bar_label(bars, fmt="%.3f")
    ax2.axhline(0.9, color="tab:red", ls="dashed", lw=0.8)
    ax2.axhline(1.0, color="gray", lw=0.8)
    ax2.set_title("analogy accuracy / peer's (dashed: 0.9)")
    fig.suptitle(f"jaxembed vs gensim, fastText and GloVe C on {os.path.basename(report['corpus'])} ({report['machine']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1], help="word2vec models: one run per seed, means compared")
    parser.add_argument("--collect-only", action="store_true",
                        help="run nothing: summarise the per-model results already in experiments/results/")
    parser.add_argument("--glove-c", metavar="DIR", help="a GloVe C checkout built with its Makefile, run as GloVe's peer")
    parser.add_argument("--tag", default="", help="suffix of every result file's name (bench_cpu<tag>.json, "
                        "bench_<model><tag>.json), to keep another machine's results beside these")
    args = parser.parse_args()
    corpus, tag = ["--corpus", args.corpus], ["--tag", args.tag]
    rows = []
    for model in args.models:
        print(f"== {model}", flush=True)
        if model in WORD2VEC_MODELS:
            flags = ["--model", model, *corpus, "--seeds", *map(str, args.seeds), *tag]
            rows.append(pair_summary(model, run_bench("bench_word2vec.py", flags, f"bench_{model}{args.tag}",
                                                      not args.collect_only)))
        elif model == "fasttext":
            flags = [*corpus, "--seeds", *map(str, args.seeds), *tag]
            rows.append(pair_summary(model, run_bench("bench_fasttext.py", flags, f"bench_fasttext{args.tag}",
                                                      not args.collect_only)))
        else:
            flags = [*corpus, "--seed", str(args.seeds[0]), *tag, *(["--glove-c", args.glove_c] if args.glove_c else [])]
            rows.append(glove_summary(run_bench("bench_glove.py", flags,
                                                f"bench_glove{args.tag}", not args.collect_only)))
    machines = sorted({row["machine"] for row in rows})  # the per-model reports', which --collect-only may gather
    report = {"corpus": os.path.abspath(args.corpus), "machine": "; ".join(machines), "seeds": args.seeds,
              "models": rows}
    for r in rows:
        print(f"{r['model']:9s} speed {r['speed_ratio']:.2f}× (target {r['speed_bar']:.2f}×), analogy {r['analogy_ratio']:.3f}×, "
              f"WS353 {r['wordsim353_diff']:+.3f}  vs {r['peer']}")
    with open(os.path.join(RESULTS_DIR, f"bench_cpu{args.tag}.json"), "w") as f:
        json.dump(report, f, indent=1)
    plot(report, os.path.join(RESULTS_DIR, f"bench_cpu{args.tag}.png"))


if __name__ == "__main__":
    main()
