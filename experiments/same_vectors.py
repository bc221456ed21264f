"""Train every model with this checkout and with another commit, and compare the files they write byte for byte.

    python experiments/same_vectors.py --ref bb4219f            # about 1 min on 2 CPU cores

A refactoring must not change what training produces. For each of sgns, cbow, sg-hs, cbow-hs, glove and
fasttext, both versions run `jaxembed train` as a separate process on the first 500,000 words of the
benchmark corpus (dim 32, 2 epochs, seed 7; fastText with 50,000 buckets), and the script compares
`vectors.txt` (and fastText's `model.bin`) between them. The other commit is checked out with
`git worktree` into a temporary folder. Writes experiments/results/same_vectors.json; exits 1 if any
file differs.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from paths import PDCORPUS, RESULTS_DIR

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("sgns", "cbow", "sg-hs", "cbow-hs", "glove", "fasttext")
COMMON_FLAGS = ["--dim", "32", "--epochs", "2", "--seed", "7", "--quiet"]
MODEL_FLAGS = {"fasttext": ["--bucket", "50000"]}
OUTPUTS = {"fasttext": ("vectors.txt", "model.bin")}


def write_prefix(corpus: str, words: int, path: str) -> None:
    """The first `words` whitespace-separated tokens of `corpus` as one text8-style line."""
    opener = gzip.open if corpus.endswith(".gz") else open
    with opener(corpus, "rt", encoding="utf-8") as f:
        tokens = f.read().split()[:words]
    with open(path, "w", encoding="utf-8") as f:
        f.write(" ".join(tokens))


def train(source: str, model: str, corpus: str, out: str) -> float:
    """Run `jaxembed train` from the checkout at `source` in its own process; returns its wall time."""
    env = {**os.environ, "PYTHONPATH": source}
    argv = [sys.executable, "-m", "jaxembed.cli", "train", "--model", model, "--corpus", corpus, "--out", out,
            *COMMON_FLAGS, *MODEL_FLAGS.get(model, [])]
    done = subprocess.run(argv, env=env, cwd=source, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed in {source}:\n{done.stderr}")
    with open(os.path.join(out, "metrics.json")) as f:
        return json.load(f)["train_seconds"]


def digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref", required=True, help="the commit to compare against (e.g. the one before a refactoring)")
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--words", type=int, default=500_000)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jaxembed-same-") as work:
        other = os.path.join(work, "other")
        subprocess.run(["git", "-C", REPO, "worktree", "add", "--detach", other, args.ref], check=True, capture_output=True)
        try:
            ref = subprocess.run(["git", "-C", other, "rev-parse", "HEAD"], check=True, capture_output=True,
                                 text=True).stdout.strip()
            corpus = os.path.join(work, "prefix.txt")
            write_prefix(args.corpus, args.words, corpus)
            rows = []
            for model in args.models:
                row = {"model": model}
                for name, source in (("this", REPO), ("ref", other)):
                    row[f"{name}_seconds"] = train(source, model, corpus, os.path.join(work, name, model))
                for output in OUTPUTS.get(model, ("vectors.txt",)):
                    this, theirs = (digest(os.path.join(work, name, model, output)) for name in ("this", "ref"))
                    row[output] = {"sha256": this, "identical": this == theirs}
                rows.append(row)
                print(model, {k: v for k, v in row.items() if k != "model"}, flush=True)
        finally:
            subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", other], capture_output=True)
    identical = all(v["identical"] for row in rows for v in row.values() if isinstance(v, dict))
    result = {"ref": ref, "words": args.words, "flags": COMMON_FLAGS, "identical": identical, "models": rows}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "same_vectors.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("all files identical" if identical else "FILES DIFFER")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
