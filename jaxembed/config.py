"""Training configuration: a frozen dataclass, loadable from YAML and validated on construction."""
from __future__ import annotations

import dataclasses
import os
from typing import Any

import yaml

from jaxembed.errors import ConfigError, InputFileError

MODELS = ("sgns", "cbow", "sg-hs", "cbow-hs")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters; defaults are word2vec's / gensim's.

    `model` picks the architecture and its default objective: sgns / cbow use negative sampling
    (negative=5), sg-hs / cbow-hs hierarchical softmax (hs=True, negative=0). Setting `hs` and
    `negative` explicitly combines them as word2vec's `-hs 1 -negative 5` does. `alpha` defaults to
    word2vec's 0.025 for skip-gram and 0.05 for CBOW.
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
    batch_size: int = 64
    batches_per_call: int = 128
    max_sentence_length: int = 10_000
    seed: int = 1

    def __post_init__(self):
        if self.model not in MODELS:
            raise ConfigError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        hs_model = self.model.endswith("-hs")
        defaults = {"hs": hs_model, "negative": 0 if hs_model else 5, "alpha": 0.05 if self.cbow else 0.025}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
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
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

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


def load_config(path: str | os.PathLike, **overrides: Any) -> TrainConfig:
    """TrainConfig from a YAML mapping of its fields, with `overrides` (None values ignored) on top."""
    return TrainConfig(**{**read_config_file(path), **{k: v for k, v in overrides.items() if v is not None}})


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
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"config file {path!r}: unknown settings {unknown}; known: {sorted(known)}")
    return raw
