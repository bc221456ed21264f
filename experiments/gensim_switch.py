"""A gensim user's corpora through jaxembed.train_word2vec, and continued training on pdcorpus's two halves.

    python experiments/gensim_switch.py --corpus ../shared/data/pdcorpus.txt.gz          # about 6 min, 2 cores

(1) corpora: gensim's `common_texts`, a `LineSentence` of the corpus's first 200,000 words, a list of two files
    and a directory, each trained by `train_word2vec(...)` with keyword settings only; the list of files must
    give byte for byte the vectors.txt of the concatenated file.
(2) continued training: skip-gram (defaults, 5 epochs) on the first half of the corpus with save_state, then
    init_from it on the second half (5 epochs); the words of the first half that the second lacks must keep
    their vectors exactly, and WS353 must be within 0.02 of one run over the whole corpus (5 epochs: the same
    epochs per word).
Writes experiments/results/gensim_switch.json.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import tempfile
import time

import numpy as np

from paths import PDCORPUS, RESULTS_DIR


def corpus_words(path: str) -> list[str]:
    from jaxembed.data.corpus import iter_token_blocks
    return [t.decode("utf-8") for tokens, _ in iter_token_blocks(path) for t in tokens]


def write_lines(path: str, words: list[str], per_line: int = 1000) -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(" ".join(words[i:i + per_line]) + "\n" for i in range(0, len(words), per_line))
    return path


def corpora_part(words: list[str], work: str) -> dict:
    from gensim.models.word2vec import LineSentence
    from gensim.test.utils import common_texts
    from jaxembed import load_vectors, train_word2vec
    cut = words[:200_000]
    whole = write_lines(os.path.join(work, "cut.txt"), cut)
    os.makedirs(os.path.join(work, "parts"))
    first = write_lines(os.path.join(work, "parts", "a.txt"), cut[:100_000])
    second = write_lines(os.path.join(work, "parts", "b.txt"), cut[100_000:])
    runs = {"common_texts": (common_texts, {"min_count": 1}), "LineSentence": (LineSentence(whole), {}),
            "two files": ([first, second], {}), "directory": (os.path.join(work, "parts"), {}),
            "concatenated file": (whole, {})}
    out = {}
    for name, (corpus, settings) in runs.items():
        directory = os.path.join(work, name.replace(" ", "_"))
        result = train_word2vec(corpus, epochs=2, save_to=directory, **settings)
        out[name] = {"vocab_size": result.metrics["vocab_size"], "corpus_words": result.metrics["corpus_words"],
                     "seconds": result.metrics["train_seconds"]}
        print(f"  {name}: {out[name]}", flush=True)
    same = filecmp.cmp(os.path.join(work, "two_files", "vectors.txt"),
                       os.path.join(work, "concatenated_file", "vectors.txt"), shallow=False)
    out["two files == concatenated file, byte for byte"] = same
    out["LineSentence == concatenated file"] = bool(np.array_equal(
        load_vectors(os.path.join(work, "LineSentence", "vectors.txt")).vectors,
        load_vectors(os.path.join(work, "concatenated_file", "vectors.txt")).vectors))
    return out


def continued_part(words: list[str], work: str) -> dict:
    from jaxembed import Word2VecConfig
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import fit
    middle = len(words) // 2
    first = write_lines(os.path.join(work, "first_half.txt"), words[:middle])
    second = write_lines(os.path.join(work, "second_half.txt"), words[middle:])
    whole = write_lines(os.path.join(work, "whole.txt"), words)
    start = time.perf_counter()
    earlier = fit(first, Word2VecConfig(save_state=True), progress=False, save_to=os.path.join(work, "first"))
    later = fit(second, Word2VecConfig(init_from=os.path.join(work, "first")), progress=False)
    continued_seconds = time.perf_counter() - start
    single = fit(whole, Word2VecConfig(), progress=False)
    second_words = set(words[middle:])
    only_first = [w for w in earlier.vectors.words if w not in second_words]
    kept = all(np.array_equal(earlier.vectors[w], later.vectors[w]) for w in only_first)
    scores = {name: evaluate_all(result.vectors) for name, result in (("continued", later), ("single", single))}
    out = {"first_half_vocab": len(earlier.vectors), "continued_vocab": len(later.vectors),
           "words_only_in_first_half": len(only_first), "their_vectors_kept_exactly": kept,
           "continued_seconds": continued_seconds, "single_seconds": single.metrics["train_seconds"],
           **{f"{name}_{key}": value for name, s in scores.items() for key, value in
              (("wordsim353", s["wordsim353"]["spearman"]), ("analogy", s["analogy"]["accuracy"]))}}
    out["wordsim353_difference"] = out["continued_wordsim353"] - out["single_wordsim353"]
    print(json.dumps(out, indent=1), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    args = parser.parse_args()
    words = corpus_words(args.corpus)
    with tempfile.TemporaryDirectory() as work:
        result = {"corpus": os.path.abspath(args.corpus), "corpora": corpora_part(words, work),
                  "continued": continued_part(words, work)}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "gensim_switch.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
