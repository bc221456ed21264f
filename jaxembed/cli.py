"""Command line: `jaxembed train | eval | convert | similar | phrases | demo`. Bad input exits with status 2 and a message;
an interrupted training run saves a checkpoint and exits with status 130.

The training flags are generated from the config dataclasses (jaxembed.config): one flag per setting,
named as the field (`--min-count` for min_count), its help and its default for each model taken from
the dataclass. The switches of `train` and `demo` accept both forms: `--shuffle` or `--shuffle 1`, and
`--shuffle 0` (eval's `--json` stays a plain flag: a value-taking switch would swallow the file after it).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any

from jaxembed.config import (CHECKPOINT_SECONDS, CONFIG_CLASSES, COUNT_MODELS, FAMILIES, MODELS, Config, Word2VecConfig, config_fields,
                             load_config, make_config)
from jaxembed.errors import ConfigError, JaxembedError, RunDirectoryError, TrainingInterrupted
from jaxembed.interrupts import handling_interrupts

DEMO_CORPUS = os.path.join(os.path.dirname(__file__), "data", "wordnet.txt.gz")
DEMO_WORDS = ("king", "dog", "blue", "run", "happy", "music")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def switch(text: str) -> bool:
    """A switch's value: 1/true/yes/on or 0/false/no/off."""
    if text.lower() in TRUE + FALSE:
        return text.lower() in TRUE
    raise argparse.ArgumentTypeError(f"expected 1 or 0 (or true/false), got {text!r}")


def shown(value, field: dataclasses.Field) -> str:
    """A default as --help writes it."""
    if value is None:
        return field.metadata.get("unset", "none")
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}" if isinstance(value, float) else str(value)


def model_defaults(name: str, field: dataclasses.Field) -> str:
    """Which models setting `name` applies to (when not all) and its default, with the models whose default
    differs: "[word2vec, fasttext] (default 5; sg-hs, cbow-hs: 0)"."""
    if name == "model":
        return f"(default {field.default})"
    groups: dict[str, list[str]] = {}
    for model in MODELS:
        config = CONFIG_CLASSES[model](model=model).resolved()
        if name in {f.name for f in dataclasses.fields(config)}:
            value = shown(getattr(config, name), field)
            groups.setdefault(f"{value} {config.batch_unit}" if name == "batch_size" else value, []).append(model)
    applies = [m for models in groups.values() for m in models]
    usual = next(iter(groups))  # the first model's (sgns when the setting applies to it)
    others = "".join(f"; {', '.join(models)}: {value}" for value, models in groups.items() if value != usual)
    tag = "" if len(applies) == len(MODELS) else f"[{', '.join(f for f, ms in FAMILIES.items() if set(ms) <= set(applies))}] "
    return f"{tag}(default {usual}{others})"


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per config setting; unset flags stay out of the namespace, so they keep the model default."""
    group = parser.add_argument_group("training settings", "[the models a setting applies to, when not all] "
                                      "(its default, and the models whose default differs)")
    for name, field in config_fields().items():
        kind = str(field.type)
        options = {"default": argparse.SUPPRESS,
                   "help": f"{field.metadata['help']} {model_defaults(name, field)}".replace("%", "%%")}
        if "bool" in kind:
            options.update(type=switch, nargs="?", const=True, metavar="0|1")
        elif "choices" in field.metadata:
            options.update(choices=field.metadata["choices"])
        else:
            options.update(type=int if "int" in kind else float if "float" in kind else str)
        group.add_argument("--" + name.replace("_", "-"), **options)


def flag_settings(args: argparse.Namespace) -> dict:
    """The training settings given as flags."""
    return {name: value for name, value in vars(args).items() if name in config_fields()}


def config_from_args(args: argparse.Namespace) -> Config:
    """Config file settings, then the flags given on the command line; unset values take model defaults.
    A setting that does not apply to the model (e.g. --negative with glove) is an error."""
    if args.config:
        return load_config(args.config, **flag_settings(args))
    return make_config(flag_settings(args))


def run_plan(args: argparse.Namespace) -> tuple[Any, str]:
    """(the run (rundir.RunRecord), its directory): from the flags, or from DIR/run.json with --resume DIR
    (where --corpus may point to the corpus's new place, and --binary change the outputs)."""
    from jaxembed.rundir import RunRecord, read_run
    if not args.resume:
        if not args.corpus or not args.out:
            raise ConfigError("--corpus and --out are required (or --resume DIR to continue a run)")
        config = config_from_args(args).resolved()
        if getattr(config, "init_from", None):  # run.json keeps it, for --resume from anywhere
            config = config.replace(init_from=os.path.abspath(config.init_from))
        return RunRecord(config, absolute_corpus(args.corpus), bool(args.binary)), args.out
    given = sorted(flag_settings(args)) + (["config"] if args.config else []) + (["overwrite"] if args.overwrite else [])
    if given:
        raise ConfigError(f"--resume continues the run with its saved settings; drop {', '.join(given)}")
    if args.out and os.path.abspath(args.out) != os.path.abspath(args.resume):
        raise ConfigError(f"--resume writes to the run's own directory {args.resume!r}; drop --out {args.out!r}")
    saved = read_run(args.resume)
    check_unfinished(saved, args.resume)
    return dataclasses.replace(saved, corpus=absolute_corpus(args.corpus) if args.corpus else saved.corpus,
                               binary=saved.binary if args.binary is None else args.binary), args.resume


def absolute_corpus(specs: list[str]) -> str | list[str]:
    """The files --corpus names (files, directories, glob patterns; data.sources) as absolute paths: one, or a list."""
    from jaxembed.data.sources import corpus_files
    corpus = corpus_files(specs)
    return [os.path.abspath(f) for f in corpus] if isinstance(corpus, tuple) else os.path.abspath(corpus)


def check_unfinished(run: Any, directory: str) -> None:
    if run.finished:
        raise RunDirectoryError(f"the run in {directory!r} finished: its outputs are written ({directory}/run.json)")


def train_into(out: str, run: Any, args: argparse.Namespace) -> Any:
    """Train `run` (rundir.RunRecord) into the locked directory `out`; returns the fit.TrainResult."""
    from jaxembed.checkpoint import checkpoint_path
    from jaxembed.fit import fit
    from jaxembed.rundir import (RUN_NAME, claim_for_new_run, files_of_a_run, locked, read_run, remove_temporaries,
                                 run_path, write_run)
    with locked(out):
        if args.resume:
            check_unfinished(read_run(out), out)
        else:
            claim_for_new_run(out, args.overwrite)
            write_run(out, run)
        remove_temporaries(out)
        try:
            result = fit(run.corpus, run.config, progress=not args.quiet, checkpoint_dir=out,
                         checkpoint_every=args.checkpoint_every, resume=os.path.exists(checkpoint_path(out)),
                         save_to=out, binary=run.binary,
                         on_saved=lambda: write_run(out, dataclasses.replace(run, finished=True)))
        except JaxembedError:
            if not args.resume and files_of_a_run(out) == [RUN_NAME]:
                os.remove(run_path(out))  # nothing to resume: the corrected command may start again here
            raise
        except KeyboardInterrupt as e:
            if isinstance(e, TrainingInterrupted):
                raise
            raise TrainingInterrupted(f"{str(e) or 'interrupted'}; continue with: jaxembed train --resume {out} "
                                      "(from its last checkpoint, or from the start if none was written)") from None
    return result


def cmd_train(args: argparse.Namespace) -> None:
    from jaxembed.rundir import remove_if_unused
    if args.checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every must be >= 0 seconds, got {args.checkpoint_every}")
    run, out = run_plan(args)
    created = not os.path.exists(out)
    try:
        result = train_into(out, run, args)
    except JaxembedError as e:
        if created and not isinstance(e, RunDirectoryError):
            remove_if_unused(out)
        raise
    with handling_interrupts() as interrupts:
        if interrupts.requested:
            print(f"jaxembed train: {interrupts.name} arrived after training; the output files were completed",
                  file=sys.stderr)
    m = result.metrics
    if run.config.model in COUNT_MODELS:
        shape = f"x {run.config.dim}" if run.config.model == "svd" else f"rows, {m['nonzeros']:,} nonzeros"
        print(f"computed {m['vocab_size']} words {shape} in {m['train_seconds']:.1f} s; wrote {out}/"
              f"{'vectors.npz' if run.config.model == 'ppmi' else 'vectors.txt'}")
        return
    print(f"trained {m['vocab_size']} words x {run.config.dim} in {m['train_seconds']:.1f} s "
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


def cmd_phrases(args: argparse.Namespace) -> None:
    from jaxembed.phrases import PhraseConfig, phrase_passes
    settings = {k: v for k, v in (("min_count", args.min_count), ("threshold", args.threshold), ("scoring", args.scoring),
                                  ("delimiter", args.delimiter), ("max_vocab_size", args.max_vocab_size)) if v is not None}
    learned = phrase_passes(args.corpus, args.out, PhraseConfig(**settings), args.passes)
    for done, phrases in enumerate(learned, start=1):
        found = phrases.export_phrases()
        frequent = sorted(found, key=lambda p: -phrases.counts[p.encode("utf-8", "surrogateescape")])[:args.show]
        print(f"pass {done}: {len(found):,} phrases; most frequent: "
              + ", ".join(f"{p} ({phrases.counts[p.encode('utf-8', 'surrogateescape')]:,})" for p in frequent))
    print(f"wrote {args.out}")


def cmd_demo(args: argparse.Namespace) -> None:
    from jaxembed.eval.benchmarks import evaluate_all, format_results
    from jaxembed.fit import fit
    config = Word2VecConfig(epochs=args.epochs, seed=args.seed).resolved()
    print(f"Training skip-gram (dim {config.dim}, window {config.window}, negative {config.negative}, "
          f"{config.epochs} epochs) on the bundled WordNet 3.0 glosses...")
    result = fit(DEMO_CORPUS, config, progress=not args.quiet)
    m = result.metrics
    print(f"{m['corpus_words']:,} words, vocabulary {m['vocab_size']:,}: {m['train_seconds']:.1f} s, "
          f"{m['words_per_second']:,.0f} words/s, final loss {m['loss']:.4f}\n")
    print(format_results(evaluate_all(result.vectors)))
    print("\nNearest neighbours:")
    for word in DEMO_WORDS:
        neighbours = ", ".join(f"{w} {s:.2f}" for w, s in result.vectors.most_similar(word, topn=6))
        print(f"  {word:>6}: {neighbours}")
    if args.out:
        result.save(args.out)


def build_parser(settings: bool = True) -> argparse.ArgumentParser:
    """The command line. settings=False leaves out train's setting flags, whose per-model defaults need jax
    (on a GPU or TPU the batch defaults differ): commands other than train then start without it."""
    parser = argparse.ArgumentParser(prog="jaxembed", description="Train, evaluate and convert static word embeddings.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train vectors on a corpus", allow_abbrev=False,
                           description="Train word2vec (sgns, cbow, sg-hs, cbow-hs), GloVe or fastText vectors, or "
                           "compute the count-based ppmi (sparse rows) and svd models.")
    train.add_argument("--corpus", nargs="+", metavar="PATH", help="text file (text8-style or one sentence per line), "
                       "gzip ok; or several files, directories (their files in sorted order) and quoted glob patterns, "
                       "read one after the other")
    train.add_argument("--out", help="output directory for vectors.txt, metrics.json and the checkpoint "
                       "(fasttext also writes model.bin, loadable by the official fastText; ppmi writes its sparse "
                       "rows as vectors.npz instead of vectors.txt)")
    train.add_argument("--config", help="YAML file of training settings, named as the flags below (flags override it)")
    train.add_argument("--binary", type=switch, nargs="?", const=True, default=None, metavar="0|1",
                       help="also write vectors.bin (word2vec binary)")
    train.add_argument("--overwrite", type=switch, nargs="?", const=True, default=False, metavar="0|1",
                       help="replace the files of another run in --out (otherwise such a directory is refused)")
    train.add_argument("--resume", metavar="DIR", help="continue the interrupted run in DIR (its settings, corpus "
                       "and output options are saved there, in run.json); from its checkpoint, or from the start when "
                       "it was stopped before writing one")
    train.add_argument("--checkpoint-every", type=float, default=CHECKPOINT_SECONDS, metavar="SECONDS",
                       help=f"write OUT/checkpoint.msgpack this often (default {CHECKPOINT_SECONDS:.0f}; 0: only on Ctrl-C); "
                       "removed when the run finishes")
    train.add_argument("--quiet", type=switch, nargs="?", const=True, default=False, metavar="0|1", help="no progress bar")
    if settings:
        add_setting_flags(train)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("eval", help="Google analogies, WordSim-353 and SimLex-999")
    ev.add_argument("vectors", help="word2vec text or binary, GloVe text, a fastText .bin model or sparse .npz "
                    "vectors (detected)")
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

    phr = sub.add_parser("phrases", help="join collocations (new york -> new_york) as word2phrase and gensim's Phrases",
                         description="Find collocations by word2phrase's score (count(ab) - min_count) * V / "
                         "(count(a) count(b)) > threshold (V: words and pairs counted, as gensim) or gensim's npmi, "
                         "and write the corpus with them joined; each further pass joins longer phrases.")
    phr.add_argument("--corpus", required=True, help="text file (one sentence per line, or one line), gzip or a pipe")
    phr.add_argument("--out", required=True, help="the phrased corpus (gzip when it ends in .gz)")
    phr.add_argument("--passes", type=int, default=1, help="passes; each joins longer phrases (default 1)")
    phr.add_argument("--min-count", type=int, help="ignore words and pairs rarer than this (default 5)")
    phr.add_argument("--threshold", type=float, help="score a pair must exceed (default 10; npmi: in [-1, 1])")
    phr.add_argument("--scoring", choices=["default", "npmi"], help="default (word2phrase's) or npmi")
    phr.add_argument("--delimiter", help="joins the words of a phrase (default _)")
    phr.add_argument("--max-vocab-size", type=int, help="prune rare entries beyond this many, as gensim (default: no limit)")
    phr.add_argument("--show", type=int, default=10, help="print this many of each pass's most frequent phrases")
    phr.set_defaults(func=cmd_phrases)

    demo = sub.add_parser("demo", help="train on the bundled WordNet corpus and show results (offline, ~1 min)")
    demo.add_argument("--epochs", type=int, default=5)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--out", help="also save vectors.txt and metrics.json here")
    demo.add_argument("--quiet", type=switch, nargs="?", const=True, default=False, metavar="0|1", help="no progress bar")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(settings=not argv or argv[0] not in ("eval", "convert", "similar", "phrases")).parse_args(argv)
    try:
        with handling_interrupts():
            args.func(args)
    except (JaxembedError, OSError) as e:
        print(f"jaxembed {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print(f"jaxembed {args.command}: {str(e) or 'interrupted'}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
