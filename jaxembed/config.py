"""Training settings: the settings every model shares once (`ModelConfig`; `RunConfig` adds those of the trained
models), one frozen dataclass per model family on top of it, one validator, YAML loading, and the metadata the command line builds its flags from.

A field left `None` means "the model's default" (word2vec's learning rate is 0.025 for skip-gram and 0.05
for CBOW, for instance); `resolved()` returns the config with every such field filled in, which is what
training records in metrics.json and checkpoints. Every field's `help` and its default per model are what
`jaxembed train --help` shows.

Every setting is checked against its field's type when a config is built (from Python, a YAML file, the flags
or a checkpoint), and only unambiguous values are converted: an int or a numeric string ("1e-4", which YAML
reads as a string) to a float, 0 or 1 to a bool. A float is never an int (`epochs: 2.0` is refused, as the
flags refuse it), a bool never an int, a string never a bool, None only where the type is Optional, a float
only when finite; integers must lie in `INT_RANGES`.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
import types
import typing
from typing import Any

import yaml

from jaxembed.data.corpus import MAX_SENTENCE_LENGTH
from jaxembed.errors import ConfigError, InputFileError

WORD2VEC_MODELS = ("sgns", "cbow", "sg-hs", "cbow-hs")
FAMILIES = {"word2vec": WORD2VEC_MODELS, "glove": ("glove",), "fasttext": ("fasttext",), "ppmi": ("ppmi",), "svd": ("svd",)}
"""The model families, each with one config class and trained by one plug-in (jaxembed.models), and their models."""
COUNT_MODELS = ("ppmi", "svd")
"""The count-based models: computed in closed form from co-occurrence counts, with no training loop."""
MODELS = tuple(m for models in FAMILIES.values() for m in models)
CHECKPOINT_SECONDS = 300.0
"""Default seconds between periodic training checkpoints (jaxembed.checkpoint)."""


LARGE_BATCH = 16384
"""Examples per micro-batch by default on a GPU or TPU, where small micro-batches leave the device idle."""
MAX_ROW_UPDATES = 64.0
"""Default cap of the count-aware update (optim.sparse.sgd_rows) from LARGE_BATCH_FROM examples per micro-batch
up (measured in experiments/README.md); below, plain SGD sums every update as word2vec does."""
LARGE_BATCH_FROM = 1024
CPU_REPLICAS = 2
"""Default replicas of skip-gram (word2vec's and fastText's) on a CPU (jaxembed.replicas, `default_replicas`). CBOW
keeps 1, as with 2 its analogy accuracy fell. From LARGE_BATCH_FROM examples per micro-batch up skip-gram on pairs
(sgns) and fastText skip-gram keep 2 (fastText at 16,384 pairs: analogy 0.549 against one replica's 0.558 and the
official fastText's 0.578), but not skip-gram on centre windows: sg-hs at 16,384 windows (3.1M pairs a block) fell from
0.174 to 0.159 (experiments/README.md). A fixed number, not the machine's core count, so that a seed gives the same
vectors on every machine (gensim's default is a fixed 3 workers); 2 keeps a 2-core laptop busy, and `replicas` uses
more cores."""
MERGE_EVERY = 64
"""Default blocks each replica trains between two merges, below LARGE_BATCH_FROM examples per micro-batch."""
LARGE_BATCH_BLOCK = 1 << 19
"""Examples per block of replicas at large batches (batches_per_call = LARGE_BATCH_BLOCK // batch_size), merged after
every block: blocks of 128 micro-batches of 16,384 pairs, merged every 64 blocks, left the replicas a whole epoch apart
(sgns: analogy 0.110 against 0.165 with one replica), and merged after every 32 updates sgns kept its quality
(experiments/README.md)."""
MERGE_RULES = ("sum", "agreement")
"""How a merge combines the replicas' changes to a row (jaxembed.replicas.combined_change). Hierarchical softmax
takes `agreement`: every path shares the Huffman tree's top nodes, whose summed changes overshoot (with `sum` its
analogy accuracy fell by 10% at 64 blocks between merges; with `agreement` it held, experiments/README.md);
word2vec's negative sampling and CBOW keep `sum`, with which their WS353 was higher. fastText takes `agreement`: its
n-gram rows are shared by many words, and both replicas move the common ones the same way (at 2 x 64 its analogy
accuracy was 0.009-0.027 higher than with `sum`)."""
INT32_RANGE = (-2**31, 2**31 - 1)
INT_RANGES = {"seed": (0, 2**32 - 1), "epochs": (1, 10**6), "bucket": (0, 2**30)}
"""The allowed range of an integer setting: INT32_RANGE unless listed here (device arrays and fastText's model.bin
hold them as int32). The seed is 32 bits (jax.random.key keeps only those, numpy's seeding refuses negative
seeds), bucket leaves 2**30 - 1 more int32 row ids for the vocabulary."""


def default_replicas(cbow: bool, device_examples: bool, devices: int | None, batch_size: int,
                     large_batches: bool) -> int:
    """CPU_REPLICAS for skip-gram on examples made by the host of one CPU process, below LARGE_BATCH_FROM examples
    per micro-batch, and above where `large_batches` (replicas kept the quality there); else 1."""
    return CPU_REPLICAS if (replicas_apply() and not (cbow or device_examples) and devices in (None, 1)
                            and (large_batches or batch_size < LARGE_BATCH_FROM)) else 1


def replica_blocks(replicas: int, batch_size: int) -> dict[str, int]:
    """The default batches_per_call and merge_every: replicas at large batches (from LARGE_BATCH_FROM examples per
    micro-batch) merge after every block of LARGE_BATCH_BLOCK examples; otherwise blocks of 128 micro-batches, merged
    every MERGE_EVERY blocks."""
    if replicas > 1 and batch_size >= LARGE_BATCH_FROM:
        return {"batches_per_call": max(1, LARGE_BATCH_BLOCK // batch_size), "merge_every": 1}
    return {"batches_per_call": 128, "merge_every": MERGE_EVERY}


def row_update_cap(batch_size: int) -> float:
    """The default max_row_updates for a micro-batch of `batch_size` examples: MAX_ROW_UPDATES, or 0 (plain SGD)
    below LARGE_BATCH_FROM."""
    return MAX_ROW_UPDATES if batch_size >= LARGE_BATCH_FROM else 0.0


def on_accelerator() -> bool:
    """Whether jax's default backend is a GPU or TPU (the defaults then favour large batches). The first call starts
    jax, with a CPU device per core for the replicas (`reserve_cpu_devices`)."""
    import jax
    reserve_cpu_devices()
    return jax.default_backend() != "cpu"


def replicas_apply() -> bool:
    """Whether jaxembed.replicas can carry the run: one process on a CPU (several processes train data-parallel)."""
    import jax
    return not on_accelerator() and jax.process_count() == 1


def reserve_cpu_devices() -> None:
    """Ask jax for one CPU device per core (at least CPU_REPLICAS), for jaxembed.replicas. jax grants it only
    before its backends start; afterwards the replicas share the devices there are. Called before any jax use
    by `on_accelerator`, `fit` and the command line."""
    import jax
    count = max(CPU_REPLICAS, os.cpu_count() or 1)
    if jax.config.jax_num_cpu_devices < count:
        try:
            jax.config.update("jax_num_cpu_devices", count)
        except RuntimeError:
            pass


def setting(default: Any, help: str, **metadata: Any) -> Any:
    """A config field with its help text; metadata `choices` (allowed values) and `unset` (what None means)."""
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Settings every model shares: its vocabulary, its window and its seed. Each family's config adds its
    own settings and its `FAMILY`.

    A setting left None means "the model's default"; `resolved()` fills those in. `replace` changes
    the given fields only, so on a resolved config the other resolved values stay as they are.
    """

    FAMILY: typing.ClassVar[str]
    model: str
    window: int = setting(5, "max distance between a word and a context word")
    min_count: int = setting(5, "drop words rarer than this")
    max_vocab_size: int | None = setting(None, "keep at most this many most frequent words", unset="no limit")
    seed: int = setting(1, "random seed: training is deterministic given it")

    def defaults(self) -> dict[str, Any]:
        """The model's defaults of the fields that default to None."""
        return {}

    def resolved(self) -> "ModelConfig":
        """This config with every None that has a model default filled in."""
        missing = {k: v for k, v in self.defaults().items() if getattr(self, k) is None}
        return dataclasses.replace(self, **missing) if missing else self

    def checks(self, v: Any) -> list[tuple[bool, str]]:
        """(ok, message) per rule, on the resolved values `v`."""
        return [
            (v.window >= 1, f"window must be >= 1, got {v.window}"),
            (v.min_count >= 1, f"min_count must be >= 1, got {v.min_count}"),
            (v.max_vocab_size is None or v.max_vocab_size >= 2,
             f"max_vocab_size must be >= 2 (training needs two words), got {v.max_vocab_size}"),
        ]

    def __post_init__(self):
        for name, (field, kind, optional) in setting_types(type(self)).items():
            object.__setattr__(self, name, checked_setting(field, kind, optional, getattr(self, name)))
        family = FAMILIES[self.FAMILY]
        if self.model not in family:
            raise ConfigError(f"{type(self).__name__} is for model{'s' * (len(family) > 1)} {', '.join(family)}, "
                              f"got {self.model!r}")
        values = types.SimpleNamespace(**{**dataclasses.asdict(self), **{k: v for k, v in self.defaults().items()
                                                                         if getattr(self, k) is None}})
        for ok, message in self.checks(values):
            if not ok:
                raise ConfigError(message)

    def replace(self, **overrides: Any) -> "ModelConfig":
        """A copy with the given fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig(ModelConfig):
    """Settings every trained model shares: the vectors' size, the schedule and the devices. Each family's
    config adds `batch_unit`: what one example of a micro-batch is."""

    dim: int = setting(100, "vector dimension")
    epochs: int = setting(5, "passes over the corpus")
    batch_size: int | None = setting(None, "examples per micro-batch; updates within one are computed from the same "
                                     "parameters (on a GPU or TPU the defaults are large)")
    batches_per_call: int | None = setting(None, "micro-batches per jitted call (speed only with replicas 1: the vectors "
                                           "do not change; replicas take a call each, and from 1024 examples per "
                                           "micro-batch up their default is 524,288 examples' worth)")
    devices: int | None = setting(None, "train data-parallel on N devices; the batch size is rounded up to a multiple "
                                  "of N", unset="all GPUs or TPUs, one CPU")
    replicas: int | None = setting(None, "CPU: train this many copies of the tables at once, each on its own core and "
                                   "its own blocks, their updates combined every merge_every blocks (the threads of "
                                   "word2vec and gensim, made deterministic)",
                                   unset="2 for skip-gram on a CPU (sgns and fastText's; sg-hs's below 1024 examples "
                                   "per micro-batch), else 1")
    merge_every: int | None = setting(None, "replicas: blocks each replica trains between two merges of their updates "
                                      "(from 1024 examples per micro-batch up the default is 1)")
    merge_rule: str | None = setting(None, "replicas: how a merge combines their changes to a row: their sum (every "
                                     "update lands, as with threads), or agreement (the sum, scaled towards the mean "
                                     "as far as the changes point the same way)", choices=MERGE_RULES,
                                     unset="agreement with hierarchical softmax and for fastText, else sum")

    def defaults(self) -> dict[str, Any]:
        return {"replicas": 1, "merge_rule": "sum", **replica_blocks(1, 1)}

    def replica_defaults(self, replicas: int, batch_size: int) -> dict[str, Any]:
        """The default replicas, and the blocks and merges that go with the replicas the run gets (`replica_blocks`)."""
        return {"replicas": replicas, **replica_blocks(replicas if self.replicas is None else self.replicas, batch_size)}

    def checks(self, v: Any) -> list[tuple[bool, str]]:
        return [
            (v.dim >= 1, f"dim must be >= 1, got {v.dim}"),
            *super().checks(v),
            (v.batch_size >= 1, f"batch_size must be >= 1, got {v.batch_size}"),
            (v.batches_per_call >= 1, f"batches_per_call must be >= 1, got {v.batches_per_call}"),
            (v.devices is None or v.devices >= 1, f"devices must be >= 1, got {v.devices}"),
            (v.replicas >= 1, f"replicas must be >= 1, got {v.replicas}"),
            (v.merge_every >= 1, f"merge_every must be >= 1, got {v.merge_every}"),
            (v.replicas == 1 or replicas_apply(),
             f"replicas ({v.replicas}) use the cores of a CPU in one process: on a GPU, a TPU or several processes, "
             "train with devices"),
            (v.replicas == 1 or v.devices in (None, 1),
             f"replicas ({v.replicas}) and devices ({v.devices}) are two ways to use several processors: set one of them"),
            (v.replicas == 1 or not getattr(v, "device_examples", False),
             f"replicas ({v.replicas}) train on examples made by the host: turn device_examples off, or set replicas 1"),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class WindowSgdConfig(RunConfig):
    """Settings of the models trained by SGD on windows of the corpus (word2vec and fastText)."""

    negative: int | None = setting(None, "noise words per example (count models: the shift log k of PMI)")
    sample: float = setting(1e-3, "subsampling threshold of frequent words (0: off)")
    alpha: float | None = setting(None, "initial learning rate, decaying linearly to min_alpha")
    min_alpha: float = setting(0.0001, "final learning rate")
    max_row_updates: float | None = setting(None, "count-aware large batches: a row with more updates than this in "
                                            "one micro-batch gets this many times their mean instead of their sum "
                                            "(0: always the sum; from batch_size 1024 up the default is 64)")
    shuffle: bool = setting(False, "visit the sentences in a new random order every epoch (0: file order, as word2vec, "
                            "gensim and fastText)")
    noise_power: float = setting(0.75, "noise distribution ∝ count^noise_power (gensim's ns_exponent; 1: unigram)")
    init_from: str | None = setting(None, "continue from an earlier run (its folder: state.msgpack, see save_state, else "
                                    "model.bin, else vectors.txt), a fastText .bin or a vectors file: its words stay in the "
                                    "vocabulary and keep their rows", unset="a fresh start")

    def checks(self, v: Any) -> list[tuple[bool, str]]:
        return [
            *super().checks(v),
            (v.negative >= 0, f"negative must be >= 0, got {v.negative}"),
            (v.sample >= 0, f"sample must be >= 0, got {v.sample}"),
            (v.alpha > 0, f"alpha must be > 0, got {v.alpha}"),
            (v.max_row_updates >= 0, f"max_row_updates must be >= 0 (0: no cap), got {v.max_row_updates}"),
            (v.noise_power >= 0, f"noise_power must be >= 0, got {v.noise_power}"),
            (0 <= v.min_alpha <= v.alpha, f"min_alpha must be in [0, alpha={v.alpha}], got {v.min_alpha}"),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Word2VecConfig(WindowSgdConfig):
    """word2vec's four variants; defaults are word2vec's and gensim's.

    `model` picks the architecture and its default objective: sgns / cbow use negative sampling
    (negative 5), sg-hs / cbow-hs hierarchical softmax (hs on, negative 0). Setting `hs` and `negative`
    explicitly combines them as word2vec's `-hs 1 -negative 5` does. An example is a (context, centre)
    pair for skip-gram with negative sampling, else a centre word's window.
    """

    FAMILY = "word2vec"
    model: str = setting("sgns", "architecture and objective", choices=MODELS)
    hs: bool | None = setting(None, "hierarchical softmax")
    cbow_mean: bool = setting(True, "CBOW: average (1) or sum (0) the context vectors")
    max_sentence_length: int = setting(MAX_SENTENCE_LENGTH, "cut longer lines into sentences of this many words "
                                       "(gensim's rule)")
    shrink_windows: bool = setting(True, "word2vec's reduced window: each centre's window drawn from U{1..window} "
                                   "(0: always the full window)")
    shared_negatives: bool = setting(False, "skip-gram: the context words of one centre share its noise words "
                                     "(examples are then centre windows)")
    device_examples: bool | None = setting(None, "make the examples on the device from token ids (default on a GPU or "
                                           "TPU; on a CPU the host is faster)")
    save_state: bool = setting(False, "also write state.msgpack (vocabulary counts, input and output rows) for a later "
                               "run to continue from (init_from)")

    @property
    def cbow(self) -> bool:
        return self.model.startswith("cbow")

    @property
    def window_examples(self) -> bool:
        """Examples are whole centre windows (CBOW; skip-gram with HS only, or with shared negatives), else
        (context, centre) pairs."""
        v = self.resolved()
        return v.cbow or v.shared_negatives or (v.hs and v.negative == 0)

    @property
    def batch_unit(self) -> str:
        return "centre windows" if self.window_examples else "pairs"

    def defaults(self) -> dict[str, Any]:
        hs = self.hs if self.hs is not None else self.model.endswith("-hs")
        negative = self.negative if self.negative is not None else (0 if self.model.endswith("-hs") else 5)
        skipgram_windows = not self.cbow and (self.shared_negatives or (hs and negative == 0))  # 16 windows ≈ 64 pairs
        accelerator = on_accelerator()
        batch_size = self.batch_size if self.batch_size is not None else (
            LARGE_BATCH if accelerator else 16 if skipgram_windows else 64)
        device_examples = accelerator if self.device_examples is None else self.device_examples
        return {"hs": hs, "negative": negative, "alpha": 0.05 if self.cbow else 0.025, "batch_size": batch_size,
                "max_row_updates": row_update_cap(batch_size), "device_examples": accelerator,
                **self.replica_defaults(default_replicas(self.cbow, device_examples, self.devices, batch_size,
                                                         large_batches=not skipgram_windows), batch_size),
                "merge_rule": "agreement" if hs else "sum"}

    def checks(self, v: Any) -> list[tuple[bool, str]]:
        return [
            *super().checks(v),
            (v.hs or v.negative >= 1, f"negative must be >= 1 when hierarchical softmax is off, got {v.negative}"),
            (not v.shared_negatives or (not v.model.startswith("cbow") and v.negative >= 1),
             "shared_negatives applies to skip-gram with negative sampling (CBOW's window already shares them)"),
            (v.max_sentence_length >= 1, f"max_sentence_length must be >= 1, got {v.max_sentence_length}"),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class GloveConfig(RunConfig):
    """GloVe; defaults are GloVe C's (`x_max` 100, exponent 0.75, η 0.05, 25 iterations, symmetric
    1/d-weighted window) except window 10 (GloVe C: 15) and min_count 5 (its demo's). An example is one
    nonzero co-occurrence count.

    `eta` scales the vector gradients and `bias_eta` the bias gradients before Adagrad (accumulator
    starting at 1): GloVe C's update, whose bias step has no η (bias_eta = 1).
    """

    FAMILY = "glove"
    model: str = setting("glove", "architecture and objective", choices=MODELS)
    window: int = setting(10, "max distance between a word and a context word")
    epochs: int = setting(25, "passes over the corpus")
    batches_per_call: int = setting(64, "micro-batches per jitted call (speed only with replicas 1: the vectors do not "
                                    "change; replicas take a call each)")
    x_max: float = setting(100.0, "count at which the weighting f(x) = min(1, (x/x_max)^weight_exponent) reaches 1")
    weight_exponent: float = setting(0.75, "exponent of the weighting f(x) (GloVe C's -alpha)")
    eta: float = setting(0.05, "Adagrad learning rate")
    bias_eta: float = setting(1.0, "scale of the bias gradients (GloVe C: 1)")
    grad_clip: float = setting(100.0, "clip each vector gradient to ±this")
    symmetric: bool = setting(True, "count context words on both sides (0: left only)")
    distance_weighting: bool = setting(True, "weight a pair by 1/distance (0: by 1)")
    memory_mb: float = setting(1024.0, "memory limit of the co-occurrence counting, in MB")
    output: str = setting("w+c", "write the word vectors W (w), or their sum with the context vectors W + W~ (w+c, "
                          "GloVe's -model 2)", choices=("w+c", "w"))
    init_from: str | None = setting(None, "continue from an earlier run (its folder: state.msgpack, see save_state, else "
                                    "model.bin, else vectors.txt), a fastText .bin or a vectors file: its words stay in the "
                                    "vocabulary and keep their rows", unset="a fresh start")
    save_state: bool = setting(False, "also write state.msgpack (vocabulary counts, input and output rows) for a later "
                               "run to continue from (init_from)")

    @property
    def batch_unit(self) -> str:
        return "nonzeros"

    def defaults(self) -> dict[str, Any]:
        return {**super().defaults(), "batch_size": 4 * LARGE_BATCH if on_accelerator() else 1024}

    def checks(self, v: Any) -> list[tuple[bool, str]]:
        return [
            *super().checks(v),
            (v.x_max > 0, f"x_max must be > 0, got {v.x_max}"),
            (v.weight_exponent >= 0, f"weight_exponent must be >= 0, got {v.weight_exponent}"),
            (v.eta > 0 and v.bias_eta >= 0, f"eta must be > 0 and bias_eta >= 0, got {v.eta}, {v.bias_eta}"),
            (v.grad_clip > 0, f"grad_clip must be > 0, got {v.grad_clip}"),
            (v.memory_mb > 0, f"memory_mb must be > 0, got {v.memory_mb}"),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FastTextConfig(WindowSgdConfig):
    """fastText (unsupervised); defaults are the fastText tool's (`fasttext skipgram`): lr 0.05 decaying
    linearly to 0, sampling threshold t = 1e-4, noise ∝ count^0.5, n-grams of 3..6 characters hashed
    into 2,000,000 buckets. `cbow` trains CBOW (the bag of all context words' subword rows predicts the
    centre) instead of skip-gram (the centre's bag predicts each context word); an example is a pair
    for skip-gram, a centre word for CBOW. `max_line_tokens` is fastText's MAX_LINE_SIZE (lines are cut
    after 1024 + 1 tokens).
    """

    FAMILY = "fasttext"
    model: str = setting("fasttext", "architecture and objective", choices=MODELS)
    cbow: bool = setting(False, "CBOW instead of skip-gram")
    negative: int = setting(5, "noise words per example")
    sample: float = setting(1e-4, "subsampling threshold of frequent words (0: off)")
    alpha: float = setting(0.05, "initial learning rate, decaying linearly to min_alpha")
    min_alpha: float = setting(0.0, "final learning rate")
    minn: int = setting(3, "shortest character n-gram")
    maxn: int = setting(6, "longest character n-gram (0: no subwords)")
    bucket: int = setting(2_000_000, "hash buckets of the n-grams (the input table has vocabulary + bucket rows: lower "
                          "it on small machines)")
    noise_power: float = setting(0.5, "noise distribution ∝ count^noise_power")
    max_line_tokens: int = setting(1024, "cut lines after this many tokens + 1")
    device_examples: bool | None = setting(None, "make the examples on the device from token ids (default on a GPU or "
                                           "TPU; on a CPU the host is faster; fastText: skip-gram only)")

    @property
    def batch_unit(self) -> str:
        return "centre words" if self.cbow else "pairs"

    def defaults(self) -> dict[str, Any]:
        accelerator = on_accelerator()
        batch_size = self.batch_size if self.batch_size is not None else LARGE_BATCH if accelerator else 64
        device_examples = accelerator and not self.cbow if self.device_examples is None else self.device_examples
        return {**super().defaults(), "batch_size": batch_size, "max_row_updates": row_update_cap(batch_size),
                "device_examples": accelerator and not self.cbow,
                **self.replica_defaults(default_replicas(self.cbow, device_examples, self.devices, batch_size,
                                                         large_batches=True), batch_size),
                "merge_rule": "agreement"}

    def checks(self, v: Any) -> list[tuple[bool, str]]:
        return [
            *super().checks(v),
            (v.negative >= 1, f"negative must be >= 1 (fastText trains with negative sampling), got {v.negative}"),
            (v.maxn >= 0, f"maxn must be >= 0 (0: no subwords), got {v.maxn}"),
            (v.maxn == 0 or 1 <= v.minn <= v.maxn, f"minn must be in [1, maxn={v.maxn}], got {v.minn}"),
            (v.maxn == 0 or v.bucket >= 1, f"bucket must be >= 1 when maxn > 0, got {v.bucket}"),
            (not (v.device_examples and v.cbow), "device_examples applies to fastText skip-gram (CBOW's bags are made "
             "on the host)"),
            (v.cbow or v.batch_size >= 2 * v.window,
             f"batch_size (pairs per micro-batch) must be >= 2 * window = {2 * v.window} for skip-gram, got {v.batch_size}"),
            (v.max_line_tokens >= 1, f"max_line_tokens must be >= 1, got {v.max_line_tokens}"),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PpmiConfig(ModelConfig):
    """The explicit count-based representation (Levy, Goldberg & Dagan 2015): each word's row of shifted
    positive PMI over the context words, kept sparse,

        PPMI_k(w, c) = max(log(#(w, c) / (#w · P_cds(c))) − log k, 0),   P_cds(c) = #c^cds / Σ_c' #c'^cds,

    from co-occurrence counts with word2vec's windowing: a fixed window, or (`shrink_windows`, default)
    word2vec's reduced window as the expected weight (window − d + 1)/window of a pair at distance d.
    Subsampling (`sample`, word2vec's keep probability) is "dirty" by default, as word2vec's: tokens are
    dropped before the windows are taken, so windows reach further; "clean" keeps the windows of the full
    text and weighs each pair by keep(w) keep(c), its expected count when tokens are dropped afterwards.
    """

    FAMILY = "ppmi"
    model: str = setting("ppmi", "architecture and objective", choices=MODELS)
    negative: int = setting(1, "count models: shift log k of PMI (k = 1: no shift)")
    cds: float = setting(0.75, "context distribution smoothing: P(c) ∝ #c^cds (1: plain PMI)")
    sample: float = setting(0.0, "subsampling threshold of frequent words (0: off)")
    subsampling: str = setting("dirty", "count models: drop subsampled tokens before the windows are taken (dirty, as "
                               "word2vec) or weigh pairs by their expected count (clean)", choices=("dirty", "clean"))
    shrink_windows: bool = setting(True, "word2vec's reduced window: each centre's window drawn from U{1..window} "
                                   "(0: always the full window)")
    max_sentence_length: int = setting(MAX_SENTENCE_LENGTH, "cut longer lines into sentences of this many words "
                                       "(gensim's rule)")
    memory_mb: float = setting(1024.0, "memory limit of the co-occurrence counting, in MB")

    def checks(self, v: Any) -> list[tuple[bool, str]]:
        return [
            *super().checks(v),
            (v.negative >= 1, f"negative (the shift log k) must be >= 1, got {v.negative}"),
            (v.cds > 0, f"cds must be > 0, got {v.cds}"),
            (v.sample >= 0, f"sample must be >= 0, got {v.sample}"),
            (v.max_sentence_length >= 1, f"max_sentence_length must be >= 1, got {v.max_sentence_length}"),
            (v.memory_mb > 0, f"memory_mb must be > 0, got {v.memory_mb}"),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SvdConfig(PpmiConfig):
    """Truncated SVD of the shifted PPMI matrix M ≈ U_d Σ_d V_dᵀ (Levy, Goldberg & Dagan 2015): word vectors
    W = U_d Σ_d^eig; with `output` w+c, W + C, C = V_d Σ_d^eig, each row scaled to unit length first (hyperwords'
    w+c)."""

    FAMILY = "svd"
    model: str = setting("svd", "architecture and objective", choices=MODELS)
    dim: int = setting(100, "vector dimension")
    eig: float = setting(0.5, "svd: eigenvalue weighting p of W = U Σ^p (0: U, 1: U Σ)")
    output: str = setting("w", "write the word vectors W (w), or their sum with the context vectors (w+c)",
                          choices=("w", "w+c"))

    def checks(self, v: Any) -> list[tuple[bool, str]]:
        return [
            (v.dim >= 1, f"dim must be >= 1, got {v.dim}"),
            *super().checks(v),
            (0 <= v.eig <= 1, f"eig must be in [0, 1], got {v.eig}"),
        ]


Config = Word2VecConfig | GloveConfig | FastTextConfig | PpmiConfig | SvdConfig
CONFIG_CLASSES: dict[str, type] = {m: cls for cls in (Word2VecConfig, GloveConfig, FastTextConfig, PpmiConfig, SvdConfig)
                                   for m in FAMILIES[cls.FAMILY]}
HINTS = {("glove", "alpha"): "GloVe's learning rate is eta, and its weighting exponent (GloVe C's -alpha) is "
                             "weight_exponent"}


def quoted(value: Any) -> str:
    """A value as a message shows it: its repr, cut short."""
    text = f"an integer of {value.bit_length()} bits" if isinstance(value, int) and value.bit_length() > 256 else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(value)
    return int(value)


def to_float(value: Any) -> float:
    """A finite float from a real number or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise TypeError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def to_bool(value: Any) -> bool:
    if isinstance(value, bool) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return bool(value)
    raise TypeError(value)


def to_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


CONVERSIONS = {int: (to_int, "an integer"), float: (to_float, "a finite number"), bool: (to_bool, "true or false (1 or 0)"),
               str: (to_str, "a string")}
"""Per setting type: the function converting a value to it (TypeError, ValueError or OverflowError when it cannot),
and what the type is called in messages."""


@functools.cache
def setting_types(cls: type) -> dict[str, tuple[dataclasses.Field, type, bool]]:
    """(field, type, whether None is allowed) of each setting of a config class."""
    hints = typing.get_type_hints(cls)
    types_of = {f.name: typing.get_args(hints[f.name]) or (hints[f.name],) for f in dataclasses.fields(cls)}
    return {f.name: (f, next(t for t in types_of[f.name] if t is not type(None)), type(None) in types_of[f.name])
            for f in dataclasses.fields(cls)}


def checked_setting(field: dataclasses.Field, kind: type, optional: bool, value: Any) -> Any:
    """`value` converted to the setting's type, within its range and choices; else a ConfigError naming the
    setting, the value and what it must be."""
    if value is None and optional:
        return None
    convert, expected = CONVERSIONS[kind]
    try:
        setting = convert(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{field.name} must be {expected}{' or null' * optional}, got {quoted(value)} "
                          f"({type(value).__name__})") from None
    low, high = INT_RANGES.get(field.name, INT32_RANGE)
    if kind is int and not low <= setting <= high:
        raise ConfigError(f"{field.name} must be {f'>= {low}' if setting < low else f'<= {high}'}, got {quoted(setting)}")
    if "choices" in field.metadata and setting not in field.metadata["choices"]:
        raise ConfigError(f"{field.name} must be one of {', '.join(field.metadata['choices'])}, got {quoted(setting)}")
    return setting


def config_fields() -> dict[str, dataclasses.Field]:
    """Every setting of every model, by name (the first class to declare it gives its help)."""
    fields: dict[str, dataclasses.Field] = {}
    for cls in (Word2VecConfig, GloveConfig, FastTextConfig, PpmiConfig, SvdConfig):
        for f in dataclasses.fields(cls):
            fields.setdefault(f.name, f)
    return fields


def make_config(settings: dict[str, Any], source: str | None = None) -> Config:
    """The config of settings["model"] (default sgns) from `settings`; a setting of another model, or of none,
    is an error naming it and `source` (where the settings come from: a file, the flags)."""
    model = settings.get("model", "sgns")
    where = f"{source}: " if source else ""
    if not isinstance(model, str) or model not in CONFIG_CLASSES:
        raise ConfigError(f"{where}model must be one of {', '.join(MODELS)}, got {quoted(model)}")
    cls = CONFIG_CLASSES[model]
    known = sorted(f.name for f in dataclasses.fields(cls))
    foreign = sorted(set(settings) - set(known), key=str)
    unknown = [k for k in foreign if k not in config_fields()]
    if unknown:
        raise ConfigError(f"{where}unknown settings {unknown}; the settings of model {model!r}: {known}")
    if foreign:
        hints = "".join(f"; {HINTS[model, k]}" for k in foreign if (model, k) in HINTS)
        raise ConfigError(f"{where}settings {foreign} do not apply to model {model!r}{hints}; its settings: {known}")
    try:
        return cls(**settings)
    except ConfigError as e:
        raise ConfigError(f"{where}{e}") from None


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping in a YAML file (an empty file: none); errors name the file."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except (OSError, yaml.YAMLError, ValueError, RecursionError) as e:
        raise InputFileError(f"config file {path!r} cannot be read: {' '.join(str(e).split())}") from e
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputFileError(f"config file {path!r} must hold a mapping of settings (name: value), "
                             f"got {quoted(raw)}")
    return raw


def load_config(path: str | os.PathLike, **overrides: Any) -> Config:
    """The training config in a YAML file, with `overrides` (None values ignored) on top."""
    settings = {**read_yaml(path), **{k: v for k, v in overrides.items() if v is not None}}
    return make_config(settings, source=f"config file {os.fspath(path)!r}")


def load_dataclass(cls: type, path: str | os.PathLike | None) -> Any:
    """Any frozen dataclass of settings (an experiment's) from a YAML file (None: the defaults); a list, or a
    single value, given for a tuple field becomes a tuple; unknown keys are an error naming the file."""
    raw = {} if path is None else read_yaml(path)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"config file {os.fspath(path)!r}: unknown settings {unknown}; known: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    tuple_fields = {name for name in fields if typing.get_origin(hints[name]) is tuple}
    as_tuple = lambda v: tuple(v) if isinstance(v, list) else (v,)
    return cls(**{k: as_tuple(v) if k in tuple_fields else v for k, v in raw.items()})
