"""GloVe on a corpus: co-occurrence counting time and peak memory, seconds per epoch, quality.

    python experiments/bench_glove.py --corpus ../shared/data/pdcorpus.txt.gz

Expected on pdcorpus (2 CPU cores, window 10, x_max 10, dim 100, 15 epochs, min_count 5): counting
<= 30 s with peak RSS under --memory-mb, an epoch over the ~16.7M nonzeros <= 14.8 s (GloVe C's
time per iteration with 2 threads), WS353 rho >= 0.46 and analogy >= 0.09 (GloVe C: 0.477, 0.100).
GloVe C is not on Debian or PyPI: without `--glove-c` its figures are the reference ones from
../shared/data/README.md, measured on another run, and labelled so. With `--glove-c DIR`, a build of
GloVe C (DIR/build holding vocab_count, cooccur, shuffle and glove, as its Makefile leaves them) runs on
the same corpus with the same settings and 2 threads right after jaxembed, and is the peer. Counting runs
in its own subprocess so its peak RSS (getrusage) covers counting alone. Writes
experiments/results/bench_glove.json and .png.

    python experiments/bench_glove.py --corpus ../shared/data/pdcorpus.txt.gz --large-batch 65536

also trains at 65,536 nonzeros per update on the same counts and reports its quality beside the
default's (bench_glove_b65536.json).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from paths import PDCORPUS, RESULTS_DIR, machine

GLOVE_C = {"system": "GloVe C (reference figures, ../shared/data/README.md)", "seconds_per_epoch": 14.8,
           "nonzeros": 16.7e6, "cooccur_seconds": 9.3, "analogy": 0.100, "wordsim353": 0.477, "simlex999": 0.274}


def count_in_subprocess(args) -> dict:
    """Vocabulary + counting in a fresh process; saves the counts in GloVe's binary format for the training run."""
    code = f"""
import json, resource, time
from jaxembed.data.corpus import count_words, encode_corpus
from jaxembed.data.vocab import build_vocab
from jaxembed.data.cooccur import count_cooccurrences
from jaxembed.io.cooccurrence import save_cooccurrences
start = time.perf_counter()
counts, raw = count_words({args.corpus!r})
vocab = build_vocab(counts, {args.min_count})
ids, ends = encode_corpus({args.corpus!r}, vocab.index, raw + 1)
vocab_seconds = time.perf_counter() - start
cooc = count_cooccurrences(ids, ends, len(vocab), {args.window}, memory_mb={args.memory_mb})
seconds = time.perf_counter() - start
save_cooccurrences({args.cooc_path!r}, cooc)
print(json.dumps(dict(vocab_size=len(vocab), nonzeros=len(cooc), vocab_and_encode_seconds=vocab_seconds,
                      total_seconds=seconds, cooccur_seconds=seconds - vocab_seconds,
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, memory_limit_mb={args.memory_mb})))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def train(args, batch_size: int) -> dict:
    import numpy as np
    from jaxembed.config import GloveConfig
    from jaxembed.data.corpus import count_words
    from jaxembed.data.vocab import build_vocab
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import train_model
    from jaxembed.io.cooccurrence import load_cooccurrences
    from jaxembed.io.word2vec import save_word2vec
    from jaxembed.models.glove import counts_model
    from jaxembed.parallel import data_mesh
    vocab = build_vocab(count_words(args.corpus)[0], args.min_count)
    cooc = load_cooccurrences(args.cooc_path, len(vocab))
    config = GloveConfig(dim=args.dim, window=args.window, min_count=args.min_count, epochs=args.epochs, x_max=args.x_max,
                         batch_size=batch_size, seed=args.seed)
    mesh = data_mesh(config.devices)
    model = counts_model(cooc, config, mesh.size, vocab.strings)
    state, position = train_model(model, config, mesh)
    vectors = model.outputs(state).vectors
    path = os.path.join(RESULTS_DIR, f"jaxembed_glove{'' if batch_size == args.batch_size else f'_b{batch_size}'}{args.tag}_vectors.txt")
    save_word2vec(path, vectors)
    seconds = position.epoch_seconds
    return {"batch_size": batch_size, "epoch_seconds": seconds, "steady_epoch_seconds": float(np.median(seconds[1:] if len(seconds) > 1 else seconds)),
            "epoch_losses": position.epoch_losses, "eval": evaluate_all(vectors), "vectors": path}


def run_glove_c(args) -> dict:
    """GloVe C's pipeline (vocab_count, cooccur, shuffle, glove) on the corpus with the benchmark's settings and
    2 threads, in a temporary folder: its counting and training seconds, seconds per iteration (training wall
    time / iterations, loading and saving included) and the quality of its vectors."""
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.io.formats import load_vectors
    build = os.path.join(args.glove_c, "build")
    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "corpus.txt")
        with (gzip.open if args.corpus.endswith(".gz") else open)(args.corpus, "rb") as src, open(text, "wb") as dst:
            shutil.copyfileobj(src, dst)

        def tool(name: str, *flags, stdin: str, stdout: str) -> None:
            with open(stdin, "rb") as i, open(stdout, "wb") as o:
                subprocess.run([os.path.join(build, name), *map(str, flags)], stdin=i, stdout=o, check=True,
                               stderr=subprocess.DEVNULL, cwd=tmp)  # its temporary files go in tmp

        vocab, cooc, shuf = (os.path.join(tmp, n) for n in ("vocab.txt", "cooc.bin", "cooc.shuf.bin"))
        start = time.perf_counter()
        tool("vocab_count", "-min-count", args.min_count, "-verbose", 0, stdin=text, stdout=vocab)
        tool("cooccur", "-memory", args.memory_mb / 1024, "-vocab-file", vocab, "-verbose", 0, "-window-size", args.window,
             stdin=text, stdout=cooc)
        tool("shuffle", "-memory", args.memory_mb / 1024, "-verbose", 0, "-seed", args.seed, stdin=cooc, stdout=shuf)
        counting = time.perf_counter() - start
        save = os.path.join(tmp, "vectors")
        start = time.perf_counter()
        subprocess.run([os.path.join(build, "glove"), "-save-file", save, "-threads", "2", "-input-file", shuf,
                        "-x-max", str(args.x_max), "-iter", str(args.epochs), "-vector-size", str(args.dim), "-binary", "0",
                        "-vocab-file", vocab, "-verbose", "0", "-seed", str(args.seed)], check=True, cwd=tmp)
        training = time.perf_counter() - start
        nonzeros = os.path.getsize(shuf) // 16  # GloVe C's record: two int32 ids and a float64 count
        e = evaluate_all(load_vectors(save + ".txt", "glove"))
    return {"system": "GloVe C (built from stanfordnlp/GloVe, same run, 2 threads)", "same_run": True,
            "seconds_per_epoch": training / args.epochs, "training_seconds": training, "cooccur_seconds": counting,
            "nonzeros": nonzeros, "analogy": e["analogy"]["accuracy"], "wordsim353": e["wordsim353"]["spearman"],
            "simlex999": e["simlex999"]["spearman"], "eval": e}


def plot(report: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    t = report["jaxembed"]
    ax1.plot(range(1, len(t["epoch_seconds"]) + 1), t["epoch_seconds"], "o-", label="jaxembed")
    peer = report["glove_c"]
    ax1.axhline(peer["seconds_per_epoch"], color="gray", ls="--", label="GloVe C" + ("" if peer.get("same_run") else " (reference)"))
    ax1.set(xlabel="epoch", ylabel="seconds", title=f"time per epoch ({report['machine']})")
    ax1.legend()
    ax2.plot(range(1, len(t["epoch_losses"]) + 1), t["epoch_losses"], "o-")
    ax2.set(xlabel="epoch", ylabel="mean ½ f(X)(w·w̃ + b + b̃ − log X)²", title="GloVe loss")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default=PDCORPUS)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=10)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--x-max", type=float, default=10.0)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--large-batch", type=int, nargs="*", default=[],
                   help="also train at these batch sizes on the same counts and compare their quality")
    p.add_argument("--memory-mb", type=float, default=1024.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--glove-c", metavar="DIR", help="a GloVe C checkout built with its Makefile: run it as the peer")
    p.add_argument("--tag", default="", help="suffix of the result files' names (bench_glove<tag>.json, jaxembed_glove<tag>_vectors.txt)")
    args = p.parse_args()
    os.makedirs(RESULTS_DIR, exist_ok=True)
    args.cooc_path = os.path.join(RESULTS_DIR, "glove_cooccurrence.bin")
    counting = count_in_subprocess(args)
    print(f"counting: {counting['cooccur_seconds']:.1f} s (+{counting['vocab_and_encode_seconds']:.1f} s vocabulary), "
          f"{counting['nonzeros']:,} nonzeros, peak RSS {counting['peak_rss_mb']:.0f} MB (limit {args.memory_mb:.0f} MB)", flush=True)
    trained = train(args, args.batch_size)
    large = [train(args, batch) for batch in args.large_batch]
    os.remove(args.cooc_path)
    peer = run_glove_c(args) if args.glove_c else GLOVE_C
    if args.glove_c:
        print(f"GloVe C: counting {peer['cooccur_seconds']:.1f} s, {peer['nonzeros']:,} nonzeros, "
              f"{peer['seconds_per_epoch']:.1f} s/iteration; analogy {peer['analogy']:.4f}, WS353 {peer['wordsim353']:.4f}, "
              f"SimLex {peer['simlex999']:.4f}", flush=True)
    e = trained["eval"]
    print(f"training: {trained['steady_epoch_seconds']:.1f} s/epoch (first epoch incl. compilation "
          f"{trained['epoch_seconds'][0]:.1f} s); analogy {e['analogy']['accuracy']:.4f}, "
          f"WS353 {e['wordsim353']['spearman']:.4f}, SimLex {e['simlex999']['spearman']:.4f}")
    report = {"corpus": os.path.abspath(args.corpus), "settings": {k: v for k, v in vars(args).items() if k not in ("cooc_path", "tag", "glove_c")},
              "machine": machine(), "counting": counting, "jaxembed": trained, "glove_c": peer,
              "epoch_time_ratio_vs_glove_c": trained["steady_epoch_seconds"] / peer["seconds_per_epoch"],
              "large_batch": [{**run, "wordsim353_diff": run["eval"]["wordsim353"]["spearman"]
                               - e["wordsim353"]["spearman"]} for run in large]}
    for run in report["large_batch"]:
        print(f"batch {run['batch_size']}: {run['steady_epoch_seconds']:.1f} s/epoch; analogy "
              f"{run['eval']['analogy']['accuracy']:.4f}, WS353 {run['eval']['wordsim353']['spearman']:.4f} "
              f"({run['wordsim353_diff']:+.4f} against batch {args.batch_size})")
    name = "bench_glove" + "".join(f"_b{batch}" for batch in args.large_batch) + args.tag
    with open(os.path.join(RESULTS_DIR, name + ".json"), "w") as f:
        json.dump(report, f, indent=1)
    plot(report, os.path.join(RESULTS_DIR, name + ".png"))


if __name__ == "__main__":
    main()
