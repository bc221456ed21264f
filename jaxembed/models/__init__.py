"""Model plug-ins, one module per model family, each giving the training driver the interface of models.base."""
from __future__ import annotations

from types import ModuleType

from jaxembed.config import WORD2VEC_MODELS, RunConfig
from jaxembed.models import fasttext, glove, word2vec

PLUGINS: dict[str, ModuleType] = {**{m: word2vec for m in WORD2VEC_MODELS}, "glove": glove, "fasttext": fasttext}


def plugin(config: RunConfig) -> ModuleType:
    """The plug-in module that trains `config.model`."""
    return PLUGINS[config.model]
