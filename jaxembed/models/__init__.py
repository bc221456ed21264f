"""Model plug-ins, one module per model family, each giving the training driver the interface of models.base."""
from __future__ import annotations

from types import ModuleType

from jaxembed.config import FAMILIES, RunConfig
from jaxembed.models import fasttext, glove, word2vec

PLUGINS: dict[str, ModuleType] = {model: module for family, module in (("word2vec", word2vec), ("glove", glove),
                                                                        ("fasttext", fasttext))
                                  for model in FAMILIES[family]}


def plugin(config: RunConfig) -> ModuleType:
    """The plug-in module that trains `config.model`."""
    return PLUGINS[config.model]
