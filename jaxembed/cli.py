"""Command line: `jaxembed train | eval | convert | similar | demo`. Bad input exits with status 2 and a message;
an interrupted training run saves a checkpoint and exits with status 130."""
from __future__ import annotations

import argparse
import json
import os
import sys

from jaxembed.config import CHECKPOINT_SECONDS, MODELS, FastTextConfig, GloveConfig, TrainConfig, make_config, read_config_file
from jaxembed.errors import ConfigError, JaxembedError

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
    p.add_argument("--shrink-windows", type=int, choices=[0, 1], help="word2vec's reduced window (1, default) or the full window (0)")
    p.add_argument("--shuffle", type=int, choices=[0, 1], help="word2vec models and fasttext: visit the sentences in a "
                   "new random order every epoch (1) or in file order (0, default, as word2vec, gensim and fastText)")
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
    p.add_argument("--minn", type=int, help="fasttext: shortest character n-gram (default 3)")
    p.add_argument("--maxn", type=int, help="fasttext: longest character n-gram (default 6; 0: no subwords)")
    p.add_argument("--bucket", type=int, help="fasttext: hash buckets for n-grams (default 2000000; lower it on small machines)")
    p.add_argument("--cbow", action="store_const", const=True, help="fasttext: CBOW instead of skip-gram")
    p.add_argument("--seed", type=int, help="random seed (default 1)")
    p.add_argument("--devices", type=int, help="train data-parallel on N devices (default: all); the batch size is "
                   "rounded up to a multiple of N")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def as_bool(flag: int | None) -> bool | None:
    return None if flag is None else bool(flag)


def flag_settings(args: argparse.Namespace) -> dict:
    """The training settings given as flags (unset flags left out)."""
    flags = dict(model=args.model, dim=args.dim, window=args.window, negative=args.negative, hs=as_bool(args.hs),
                 cbow_mean=as_bool(args.cbow_mean), shrink_windows=as_bool(args.shrink_windows),
                 shuffle=as_bool(args.shuffle), sample=args.sample, min_count=args.min_count,
                 max_vocab_size=args.max_vocab_size, epochs=args.epochs, alpha=args.alpha, min_alpha=args.min_alpha,
                 batch_size=args.batch_size, seed=args.seed, x_max=args.x_max, eta=args.eta, memory_mb=args.memory_mb,
                 output=args.glove_output, minn=args.minn, maxn=args.maxn, bucket=args.bucket, cbow=args.cbow,
                 devices=args.devices)
    return {k: v for k, v in flags.items() if v is not None}


def config_from_args(args: argparse.Namespace) -> TrainConfig | GloveConfig | FastTextConfig:
    """Config file settings, then the flags given on the command line; unset values take model defaults.
    A flag that does not apply to the model (e.g. --negative with glove) is an error."""
    settings = read_config_file(args.config) if args.config else {}
    settings.update(flag_settings(args))
    return make_config(settings)


def run_plan(args: argparse.Namespace) -> tuple[TrainConfig | GloveConfig, str, str]:
    """(config, corpus, output directory): from the flags, or from the checkpoint with --resume DIR."""
    from jaxembed.checkpoint import check_no_checkpoint, checkpoint_config
    if not args.resume:
        if not args.corpus or not args.out:
            raise ConfigError("--corpus and --out are required (or --resume DIR to continue a run)")
        check_no_checkpoint(args.out)
        return config_from_args(args), args.corpus, args.out
    given = sorted(flag_settings(args)) + (["config"] if args.config else [])
    if given:
        raise ConfigError(f"--resume continues the run with its saved settings; drop {', '.join(given)}")
    if args.out and os.path.abspath(args.out) != os.path.abspath(args.resume):
        raise ConfigError(f"--resume writes to the run's own directory {args.resume!r}; drop --out {args.out!r}")
    config, saved_corpus = checkpoint_config(args.resume)
    return config, args.corpus or saved_corpus, args.resume


def write_json(path: str, data: dict) -> None:
    from jaxembed.io.atomic import atomic_open
    with atomic_open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def cmd_train(args: argparse.Namespace) -> None:
    from jaxembed.checkpoint import remove_checkpoint
    from jaxembed.train import train_word2vec
    from jaxembed.train_fasttext import train_fasttext
    from jaxembed.train_glove import train_glove
    config, corpus, out = run_plan(args)
    if args.checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every must be >= 0 seconds, got {args.checkpoint_every}")
    os.makedirs(out, exist_ok=True)
    train = {GloveConfig: train_glove, FastTextConfig: train_fasttext}.get(type(config), train_word2vec)
    result = train(corpus, config, progress=not args.quiet, checkpoint_dir=out, checkpoint_every=args.checkpoint_every,
                   resume=bool(args.resume))
    result.vectors.save(os.path.join(out, "vectors.txt"))
    if args.binary:
        result.vectors.save(os.path.join(out, "vectors.bin"), binary=True)
    if isinstance(config, FastTextConfig):
        from jaxembed.io.fasttext import save_fasttext_model
        save_fasttext_model(os.path.join(out, "model.bin"), result.state)
    write_json(os.path.join(out, "metrics.json"), result.metrics)
    remove_checkpoint(out)
    m = result.metrics
    print(f"trained {m['vocab_size']} words x {config.dim} in {m['train_seconds']:.1f} s "
          f"({m['words_per_second']:,.0f} words/s, final loss {m['loss']:.4f}); wrote {out}/vectors.txt")


def cmd_eval(args: argparse.Namespace) -> None:
    from jaxembed.eval.benchmarks import evaluate_all, format_results
    from jaxembed.io.formats import load_vectors
    if args.restrict_vocab < 1:
        raise ConfigError(f"--restrict-vocab must be >= 1, got {args.restrict_vocab}")
    results = evaluate_all(load_vectors(args.vectors), restrict_vocab=args.restrict_vocab)
    print(json.dumps(results, indent=1) if args.json else format_results(results))


CONVERT_FORMATS = {"text": "word2vec", "binary": "word2vec-binary", "glove": "glove"}


def cmd_convert(args: argparse.Namespace) -> None:
    from jaxembed.io.formats import load_vectors, save_vectors
    vectors = load_vectors(args.input)
    save_vectors(args.output, vectors, CONVERT_FORMATS[args.to])
    print(f"wrote {len(vectors)} vectors of dim {vectors.dim} to {args.output} ({args.to})")


def cmd_similar(args: argparse.Namespace) -> None:
    from jaxembed.io.formats import load_vectors
    if args.topn < 1:
        raise ConfigError(f"--topn must be >= 1, got {args.topn}")
    vectors = load_vectors(args.vectors)
    for word in args.words:
        neighbours = ", ".join(f"{w} {s:.3f}" for w, s in vectors.most_similar(word, topn=args.topn))
        print(f"{word}: {neighbours}")


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
    train.add_argument("--corpus", help="text file (text8-style or one sentence per line), gzip ok")
    train.add_argument("--out", help="output directory for vectors.txt, metrics.json and the checkpoint "
                       "(fasttext also writes model.bin, loadable by the official fastText)")
    train.add_argument("--binary", action="store_true", help="also write vectors.bin (word2vec binary)")
    train.add_argument("--resume", metavar="DIR", help="continue the interrupted run whose checkpoint is in DIR "
                       "(its settings and corpus are saved there)")
    train.add_argument("--checkpoint-every", type=float, default=CHECKPOINT_SECONDS, metavar="SECONDS",
                       help=f"write OUT/checkpoint.msgpack this often (default {CHECKPOINT_SECONDS:.0f}; 0: only on Ctrl-C); "
                       "removed when the run finishes")
    add_train_arguments(train)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("eval", help="Google analogies, WordSim-353 and SimLex-999")
    ev.add_argument("vectors", help="word2vec text or binary, GloVe text or a fastText .bin model (detected)")
    ev.add_argument("--json", action="store_true", help="print JSON")
    ev.add_argument("--restrict-vocab", type=int, default=300_000, help="use the N most frequent words (default 300000)")
    ev.set_defaults(func=cmd_eval)

    conv = sub.add_parser("convert", help="convert between word2vec text, word2vec binary and GloVe text "
                          "(a fastText .bin as input writes its vocabulary vectors, as its .vec)")
    conv.add_argument("input", help="vectors in any supported format (detected)")
    conv.add_argument("output")
    conv.add_argument("--to", choices=list(CONVERT_FORMATS), required=True, help="text, binary (word2vec) or glove")
    conv.set_defaults(func=cmd_convert)

    sim = sub.add_parser("similar", help="nearest neighbours (cosine) of words")
    sim.add_argument("vectors", help="vectors in any supported format")
    sim.add_argument("words", nargs="+")
    sim.add_argument("--topn", type=int, default=10)
    sim.set_defaults(func=cmd_similar)

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
    except (JaxembedError, OSError) as e:
        print(f"jaxembed {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print(f"jaxembed {args.command}: {e or 'interrupted'}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
