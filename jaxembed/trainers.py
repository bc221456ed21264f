"""One call per model family, with settings as keywords under jaxembed's names or gensim's:

    result = train_word2vec(sentences, vector_size=100, window=5, min_count=1, sg=1)   # gensim's Word2Vec(...)
    result.vectors.most_similar("king")                                               # gensim's model.wv

`corpus` is anything `jaxembed.fit.fit` reads (a file, several files, a directory, glob patterns, sentences).
gensim's names map to jaxembed's: vector_size → dim, ns_exponent → noise_power, min_n/max_n → minn/maxn,
sg (1: skip-gram, 0: CBOW; gensim's default is CBOW, jaxembed's skip-gram) picks the word2vec model, hs and
negative combine as in word2vec; `workers` is accepted and has no effect: `replicas` is jaxembed's counterpart
of threads (jaxembed.replicas), with its own defaults, because their number changes the vectors.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from jaxembed.config import FAMILIES, FastTextConfig, GloveConfig, Word2VecConfig, make_config
from jaxembed.errors import ConfigError
from jaxembed.fit import TrainResult, fit

GENSIM_NAMES = {"vector_size": "dim", "ns_exponent": "noise_power", "min_n": "minn", "max_n": "maxn"}
IGNORED = ("workers",)
FIT_OPTIONS = ("progress", "checkpoint_dir", "checkpoint_every", "resume", "save_to", "binary")


def settings_of(settings: dict[str, Any], config_class: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config settings under jaxembed's names, fit options) from keywords under either name."""
    config, options = {}, {}
    for name, value in settings.items():
        if name in IGNORED:
            continue
        if name in FIT_OPTIONS:
            options[name] = value
            continue
        name = GENSIM_NAMES.get(name, name)
        if name in config:
            raise ConfigError(f"{name} is given twice (under jaxembed's and gensim's name)")
        config[name] = value
    sg = config.pop("sg", None)
    if sg is not None:
        if config_class is FastTextConfig:
            config["cbow"] = not sg
        elif config_class is Word2VecConfig:
            config.setdefault("model", "sgns" if sg else "cbow")
        else:
            raise ConfigError("sg applies to word2vec and fastText")
    return config, options


def train(config_class: type, corpus: Any, config: Any, settings: dict[str, Any], caller: str) -> TrainResult:
    """fit with `config` (default: config_class's defaults) and the settings on top; progress off by default."""
    values, options = settings_of(settings, config_class)
    if config is not None and not isinstance(config, config_class):
        raise ConfigError(f"{caller}: config must be a {config_class.__name__}, got {type(config).__name__}")
    base = dataclasses.asdict(config) if config is not None else {"model": FAMILIES[config_class.FAMILY][0]}
    config = make_config({**base, **values}, source=caller)
    if not isinstance(config, config_class):
        raise ConfigError(f"{caller}: model {config.model!r} is not one of {', '.join(FAMILIES[config_class.FAMILY])}")
    return fit(corpus, config, **{"progress": False, **options})


def train_word2vec(corpus: Any, config: Word2VecConfig | None = None, **settings: Any) -> TrainResult:
    """word2vec (default skip-gram with negative sampling) on `corpus`; `settings` override `config` (module docstring)."""
    return train(Word2VecConfig, corpus, config, settings, "train_word2vec")


def train_fasttext(corpus: Any, config: FastTextConfig | None = None, **settings: Any) -> TrainResult:
    """fastText (default skip-gram) on `corpus`; `settings` override `config` (module docstring)."""
    return train(FastTextConfig, corpus, config, settings, "train_fasttext")


def train_glove(corpus: Any, config: GloveConfig | None = None, **settings: Any) -> TrainResult:
    """GloVe on `corpus`; `settings` override `config` (module docstring)."""
    return train(GloveConfig, corpus, config, settings, "train_glove")
