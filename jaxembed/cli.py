"""Command line: `jaxembed train | eval | convert | demo`. Bad input exits with status 2 and a message."""
from __future__ import annotations

import argparse
import json
import os
import sys

from jaxembed.config import MODELS, GloveConfig, TrainConfig, make_config, read_config_file
from jaxembed.errors import JaxembedError

DEMO_CORPUS = os.path.join(os.path.dirname(__file__), "data", "wordnet.txt.gz")
DEMO_WORDS = ("king", "dog", "blue", "run", "happy", "music")


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Hyperparameter flags named as in word2vec/gensim; unset flags keep the config/default value."""
    p.add_argument("--config", help="YAML file of training settings (flags override it)")
    p.add_argument("--model", choices=MODELS)
    p.add_argument("--dim", type=int, help="vector dimension (default 100)")
    p.add_argument("--window", type=int, help="max context window (default 5)")
    p.add_argument("--negative", type=int, help="noise words per example (default 5; 0 with hierarchical softmax models)")
    p.add_argument("--hs", type=int, choices=[0, 1], help="hierarchical softmax on/off (default: on for sg-hs/cbow-hs)")
    p.add_argument("--cbow-mean", type=int, choices=[0, 1], help="CBOW: average (1, default) or sum (0) the context")
    p.add_argument("--sample", type=float, help="subsampling threshold (default 1e-3; 0 disables)")
    p.add_argument("--min-count", type=int, help="drop words rarer than this (default 5)")
    p.add_argument("--max-vocab-size", type=int, help="keep at most this many most frequent words")
    p.add_argument("--epochs", type=int, help="passes over the corpus (default 5)")
    p.add_argument("--alpha", type=float, help="word2vec models: initial learning rate (default 0.025 skip-gram, "
                   "0.05 CBOW); glove: weighting exponent of f(x) = min(1, (x/x_max)^alpha) (default 0.75), as GloVe names it")
    p.add_argument("--min-alpha", type=float, help="final learning rate (default 0.0001)")
    p.add_argument("--batch-size", type=int, help="examples per micro-batch: skip-gram pairs (64), CBOW windows (64), skip-gram HS windows (16), glove nonzeros (1024)")
    p.add_argument("--x-max", type=float, help="glove: cutoff of the weighting function (default 100)")
    p.add_argument("--eta", type=float, help="glove: Adagrad learning rate (default 0.05)")
    p.add_argument("--memory-mb", type=float, help="glove: memory limit for co-occurrence counting in MB (default 1024)")
    p.add_argument("--glove-output", choices=["sum", "word"], help="glove: write W + W~ (sum, default) or W (word)")
    p.add_argument("--seed", type=int, help="random seed (default 1)")
    p.add_argument("--devices", type=int, help="train data-parallel on N devices (default: all); the batch size is "
                   "rounded up to a multiple of N")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def as_bool(flag: int | None) -> bool | None:
    return None if flag is None else bool(flag)


def config_from_args(args: argparse.Namespace) -> TrainConfig | GloveConfig:
    """Config file settings, then the flags given on the command line; unset values take model defaults.
    A flag that does not apply to the model (e.g. --negative with glove) is an error."""
    flags = dict(model=args.model, dim=args.dim, window=args.window, negative=args.negative, hs=as_bool(args.hs),
                 cbow_mean=as_bool(args.cbow_mean), sample=args.sample, min_count=args.min_count,
                 max_vocab_size=args.max_vocab_size, epochs=args.epochs, alpha=args.alpha, min_alpha=args.min_alpha,
                 batch_size=args.batch_size, seed=args.seed, x_max=args.x_max, eta=args.eta, memory_mb=args.memory_mb,
                 output=args.glove_output, devices=args.devices)
    settings = read_config_file(args.config) if args.config else {}
    settings.update({k: v for k, v in flags.items() if v is not None})
    return make_config(settings)


def write_json(path: str, data: dict) -> None:
    from jaxembed.io.atomic import atomic_open
    with atomic_open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def cmd_train(args: argparse.Namespace) -> None:
    from jaxembed.train import train_word2vec
    from jaxembed.train_glove import train_glove
    config = config_from_args(args)
    train = train_glove if isinstance(config, GloveConfig) else train_word2vec
    result = train(args.corpus, config, progress=not args.quiet)
    os.makedirs(args.out, exist_ok=True)
    result.vectors.save(os.path.join(args.out, "vectors.txt"))
    if args.binary:
        result.vectors.save(os.path.join(args.out, "vectors.bin"), binary=True)
    write_json(os.path.join(args.out, "metrics.json"), result.metrics)
    m = result.metrics
    print(f"trained {m['vocab_size']} words x {config.dim} in {m['train_seconds']:.1f} s "
          f"({m['words_per_second']:,.0f} words/s, final loss {m['loss']:.4f}); wrote {args.out}/vectors.txt")


def cmd_eval(args: argparse.Namespace) -> None:
    from jaxembed.eval.benchmarks import evaluate_all, format_results
    from jaxembed.io.word2vec import load_word2vec
    results = evaluate_all(load_word2vec(args.vectors), restrict_vocab=args.restrict_vocab)
    print(json.dumps(results, indent=1) if args.json else format_results(results))


def cmd_convert(args: argparse.Namespace) -> None:
    from jaxembed.io.word2vec import load_word2vec, save_word2vec
    vectors = load_word2vec(args.input)
    save_word2vec(args.output, vectors, binary=args.to == "binary")
    print(f"wrote {len(vectors)} vectors of dim {vectors.dim} to {args.output} ({args.to})")


def cmd_demo(args: argparse.Namespace) -> None:
    from jaxembed.eval.benchmarks import evaluate_all, format_results
    from jaxembed.train import train_word2vec
    config = TrainConfig(epochs=args.epochs, seed=args.seed)
    print(f"Training skip-gram (dim {config.dim}, window {config.window}, negative {config.negative}, "
          f"{config.epochs} epochs) on the bundled WordNet 3.0 glosses...")
    result = train_word2vec(DEMO_CORPUS, config, progress=not args.quiet)
    m = result.metrics
    print(f"{m['corpus_words']:,} words, vocabulary {m['vocab_size']:,}: {m['train_seconds']:.1f} s, "
          f"{m['words_per_second']:,.0f} words/s, final loss {m['loss']:.4f}\n")
    print(format_results(evaluate_all(result.vectors)))
    print("\nNearest neighbours:")
    for word in DEMO_WORDS:
        neighbours = ", ".join(f"{w} {s:.2f}" for w, s in result.vectors.most_similar(word, topn=6))
        print(f"  {word:>6}: {neighbours}")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        result.vectors.save(os.path.join(args.out, "vectors.txt"))
        write_json(os.path.join(args.out, "metrics.json"), m)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxembed", description="Train, evaluate and convert static word embeddings.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train vectors on a corpus")
    train.add_argument("--corpus", required=True, help="text file (text8-style or one sentence per line), .gz ok")
    train.add_argument("--out", required=True, help="output directory for vectors.txt and metrics.json")
    train.add_argument("--binary", action="store_true", help="also write vectors.bin (word2vec binary)")
    add_train_arguments(train)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("eval", help="Google analogies, WordSim-353 and SimLex-999")
    ev.add_argument("vectors", help="word2vec text or binary vectors")
    ev.add_argument("--json", action="store_true", help="print JSON")
    ev.add_argument("--restrict-vocab", type=int, default=300_000, help="use the N most frequent words (default 300000)")
    ev.set_defaults(func=cmd_eval)

    conv = sub.add_parser("convert", help="convert word2vec text <-> binary")
    conv.add_argument("input")
    conv.add_argument("output")
    conv.add_argument("--to", choices=["text", "binary"], required=True)
    conv.set_defaults(func=cmd_convert)

    demo = sub.add_parser("demo", help="train on the bundled WordNet corpus and show results (offline, ~1 min)")
    demo.add_argument("--epochs", type=int, default=5)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--out", help="also save vectors.txt and metrics.json here")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except JaxembedError as e:
        print(f"jaxembed {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"jaxembed {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
