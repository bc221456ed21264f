"""Training configuration: a frozen dataclass, loadable from YAML and validated on construction."""
from __future__ import annotations

import dataclasses
import os
from typing import Any

import yaml

from jaxembed.errors import ConfigError, InputFileError

WORD2VEC_MODELS = ("sgns", "cbow", "sg-hs", "cbow-hs")
MODELS = WORD2VEC_MODELS + ("glove", "fasttext")
CHECKPOINT_SECONDS = 300.0
"""Default seconds between periodic training checkpoints (jaxembed.checkpoint)."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters; defaults are word2vec's / gensim's.

    `model` picks the architecture and its default objective: sgns / cbow use negative sampling
    (negative=5), sg-hs / cbow-hs hierarchical softmax (hs=True, negative=0). Setting `hs` and
    `negative` explicitly combines them as word2vec's `-hs 1 -negative 5` does. `alpha` defaults to
    word2vec's 0.025 for skip-gram and 0.05 for CBOW. `batch_size` counts examples per micro-batch:
    pairs (skip-gram NS, default 64), centre windows (CBOW, default 64; skip-gram HS, default 16).
    `shrink_windows` False uses the full `window` for every centre (gensim's name) instead of
    word2vec's reduced window. `shuffle` visits the sentences in a new random order every epoch
    (word2vec, gensim and fastText read the corpus in file order, the default): SGD on a corpus in a
    sorted order (a dictionary, one topic after another) ends fitted to its last part.
    `devices`: train data-parallel on this many devices (None: all); the micro-batch is rounded up
    to a multiple of it, ⌈batch_size/devices⌉ examples per device.
    """

    model: str = "sgns"
    dim: int = 100
    window: int = 5
    negative: int | None = None
    hs: bool | None = None
    cbow_mean: bool = True
    sample: float = 1e-3
    min_count: int = 5
    max_vocab_size: int | None = None
    epochs: int = 5
    alpha: float | None = None
    min_alpha: float = 0.0001
    batch_size: int | None = None
    batches_per_call: int = 128
    max_sentence_length: int = 10_000
    shrink_windows: bool = True
    shuffle: bool = False
    seed: int = 1
    devices: int | None = None

    def __post_init__(self):
        if self.model not in WORD2VEC_MODELS:
            raise ConfigError(f"model must be one of {', '.join(WORD2VEC_MODELS)}, got {self.model!r}")
        hs_model = self.model.endswith("-hs")
        defaults = {"hs": hs_model, "negative": 0 if hs_model else 5, "alpha": 0.05 if self.cbow else 0.025}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.batch_size is None:  # skip-gram windows hold ~6 pairs each: 16 of them ≈ 64 pairs
            object.__setattr__(self, "batch_size", 16 if self.window_examples and not self.cbow else 64)
        checks = [
            (self.dim >= 1, f"dim must be >= 1, got {self.dim}"),
            (self.window >= 1, f"window must be >= 1, got {self.window}"),
            (self.negative >= 0, f"negative must be >= 0, got {self.negative}"),
            (self.hs or self.negative >= 1, f"negative must be >= 1 when hierarchical softmax is off, got {self.negative}"),
            (self.sample >= 0, f"sample must be >= 0, got {self.sample}"),
            (self.min_count >= 1, f"min_count must be >= 1, got {self.min_count}"),
            (self.max_vocab_size is None or self.max_vocab_size >= 1, f"max_vocab_size must be >= 1, got {self.max_vocab_size}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.alpha > 0, f"alpha must be > 0, got {self.alpha}"),
            (0 <= self.min_alpha <= self.alpha, f"min_alpha must be in [0, alpha={self.alpha}], got {self.min_alpha}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.batches_per_call >= 1, f"batches_per_call must be >= 1, got {self.batches_per_call}"),
            (self.max_sentence_length >= 1, f"max_sentence_length must be >= 1, got {self.max_sentence_length}"),
            devices_check(self.devices),
        ]
        raise_failed(checks)

    @property
    def cbow(self) -> bool:
        return self.model.startswith("cbow")

    @property
    def window_examples(self) -> bool:
        """Examples are whole centre windows (CBOW, and skip-gram with HS only), else (context, centre) pairs."""
        return self.cbow or (self.hs and self.negative == 0)

    def replace(self, **overrides: Any) -> "TrainConfig":
        """A copy with the given fields changed (None values are ignored; defaults already resolved stay)."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


@dataclasses.dataclass(frozen=True)
class GloveConfig:
    """GloVe hyperparameters; defaults are GloVe C's (`x_max` 100, α 0.75, η 0.05, 25 iterations,
    symmetric 1/d-weighted window) except window 10 (GloVe C: 15) and min_count 5 (its demo's).

    `eta` scales the vector gradients and `bias_eta` the bias gradients before Adagrad
    (accumulator starting at 1): GloVe C's update, whose bias step has no η (bias_eta = 1).
    `output` "sum" writes W + W̃ (GloVe's -model 2), "word" writes W only. `devices` as in TrainConfig.
    """

    model: str = "glove"
    dim: int = 100
    window: int = 10
    min_count: int = 5
    max_vocab_size: int | None = None
    epochs: int = 25
    x_max: float = 100.0
    alpha: float = 0.75
    eta: float = 0.05
    bias_eta: float = 1.0
    grad_clip: float = 100.0
    symmetric: bool = True
    distance_weighting: bool = True
    memory_mb: float = 1024.0
    batch_size: int = 1024
    batches_per_call: int = 64
    output: str = "sum"
    seed: int = 1
    devices: int | None = None

    def __post_init__(self):
        raise_failed([
            (self.model == "glove", f"GloveConfig is for model 'glove', got {self.model!r}"),
            (self.dim >= 1, f"dim must be >= 1, got {self.dim}"),
            (self.window >= 1, f"window must be >= 1, got {self.window}"),
            (self.min_count >= 1, f"min_count must be >= 1, got {self.min_count}"),
            (self.max_vocab_size is None or self.max_vocab_size >= 1, f"max_vocab_size must be >= 1, got {self.max_vocab_size}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.x_max > 0, f"x_max must be > 0, got {self.x_max}"),
            (self.alpha >= 0, f"alpha (GloVe's weighting exponent) must be >= 0, got {self.alpha}"),
            (self.eta > 0 and self.bias_eta >= 0, f"eta must be > 0 and bias_eta >= 0, got {self.eta}, {self.bias_eta}"),
            (self.grad_clip > 0, f"grad_clip must be > 0, got {self.grad_clip}"),
            (self.memory_mb > 0, f"memory_mb must be > 0, got {self.memory_mb}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.batches_per_call >= 1, f"batches_per_call must be >= 1, got {self.batches_per_call}"),
            (self.output in ("sum", "word"), f"output must be 'sum' (W + W̃) or 'word' (W), got {self.output!r}"),
            devices_check(self.devices),
        ])

    def replace(self, **overrides: Any) -> "GloveConfig":
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


def devices_check(devices: int | None) -> tuple[bool, str]:
    """`devices` is None (all available) or >= 1; the upper bound is checked when training starts."""
    return devices is None or devices >= 1, f"devices must be >= 1, got {devices}"


@dataclasses.dataclass(frozen=True)
class FastTextConfig:
    """fastText (unsupervised) hyperparameters; defaults are the fastText tool's (`fasttext skipgram`):
    lr 0.05 decaying linearly to 0, sampling threshold t = 1e-4, noise ∝ count^0.5, n-grams of
    3..6 characters hashed into 2,000,000 buckets.

    `cbow` picks CBOW (the bag of all context words' subword rows predicts the centre) instead of
    skip-gram (the centre's bag predicts each context word). `batch_size` counts pairs per
    micro-batch for skip-gram (default 64) and centre words for CBOW (default 64);
    `max_line_tokens` is fastText's MAX_LINE_SIZE (lines are cut after 1024 + 1 tokens).
    `maxn` 0 turns subwords off (words only); `bucket` may be lowered for small machines.
    `shuffle` and `devices` as for TrainConfig.
    """

    model: str = "fasttext"
    cbow: bool = False
    dim: int = 100
    window: int = 5
    negative: int = 5
    sample: float = 1e-4
    min_count: int = 5
    max_vocab_size: int | None = None
    epochs: int = 5
    alpha: float = 0.05
    min_alpha: float = 0.0
    minn: int = 3
    maxn: int = 6
    bucket: int = 2_000_000
    noise_power: float = 0.5
    batch_size: int = 64
    batches_per_call: int = 128
    max_line_tokens: int = 1024
    shuffle: bool = False
    devices: int | None = None
    seed: int = 1

    def __post_init__(self):
        raise_failed([
            (self.model == "fasttext", f"FastTextConfig is for model 'fasttext', got {self.model!r}"),
            (self.dim >= 1, f"dim must be >= 1, got {self.dim}"),
            (self.window >= 1, f"window must be >= 1, got {self.window}"),
            (self.negative >= 1, f"negative must be >= 1 (fastText trains with negative sampling), got {self.negative}"),
            (self.sample >= 0, f"sample must be >= 0, got {self.sample}"),
            (self.min_count >= 1, f"min_count must be >= 1, got {self.min_count}"),
            (self.max_vocab_size is None or self.max_vocab_size >= 2, f"max_vocab_size must be >= 2, got {self.max_vocab_size}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.alpha > 0, f"alpha must be > 0, got {self.alpha}"),
            (0 <= self.min_alpha <= self.alpha, f"min_alpha must be in [0, alpha={self.alpha}], got {self.min_alpha}"),
            (self.maxn >= 0, f"maxn must be >= 0 (0: no subwords), got {self.maxn}"),
            (self.maxn == 0 or 1 <= self.minn <= self.maxn, f"minn must be in [1, maxn={self.maxn}], got {self.minn}"),
            (self.maxn == 0 or self.bucket >= 1, f"bucket must be >= 1 when maxn > 0, got {self.bucket}"),
            (self.bucket >= 0, f"bucket must be >= 0, got {self.bucket}"),
            (self.noise_power >= 0, f"noise_power must be >= 0, got {self.noise_power}"),
            (self.batch_size >= 2 * self.window or self.cbow,
             f"batch_size (pairs per micro-batch) must be >= 2 * window = {2 * self.window} for skip-gram, got {self.batch_size}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.batches_per_call >= 1, f"batches_per_call must be >= 1, got {self.batches_per_call}"),
            (self.max_line_tokens >= 1, f"max_line_tokens must be >= 1, got {self.max_line_tokens}"),
            devices_check(self.devices),
        ])

    def replace(self, **overrides: Any) -> "FastTextConfig":
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


CONFIG_CLASSES = {"glove": GloveConfig, "fasttext": FastTextConfig}


def raise_failed(checks: list[tuple[bool, str]]) -> None:
    """Raise ConfigError with the message of the first failed check."""
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def make_config(settings: dict[str, Any]) -> TrainConfig | GloveConfig | FastTextConfig:
    """The config class for settings["model"] (default sgns), built from `settings`."""
    cls = CONFIG_CLASSES.get(settings.get("model"), TrainConfig)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"settings {unknown} do not apply to model {settings.get('model', 'sgns')!r}; known: {sorted(known)}")
    return cls(**settings)


def load_config(path: str | os.PathLike, **overrides: Any) -> TrainConfig | GloveConfig | FastTextConfig:
    """Config from a YAML mapping of its fields, with `overrides` (None values ignored) on top."""
    return make_config({**read_config_file(path), **{k: v for k, v in overrides.items() if v is not None}})


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping of TrainConfig fields; unknown keys are an error naming the file."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise InputFileError(f"config file {path!r} cannot be read: {e}") from e
    if not isinstance(raw, dict):
        raise InputFileError(f"config file {path!r} must hold a mapping of settings")
    known = {f.name for cls in (TrainConfig, GloveConfig, FastTextConfig) for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"config file {path!r}: unknown settings {unknown}; known: {sorted(known)}")
    return raw
