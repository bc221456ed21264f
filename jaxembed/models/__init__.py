"""Model plug-ins, one module per model family, each giving the training driver the interface of models.base
(the count models, models.count, that of a closed-form solution instead)."""
from __future__ import annotations

from types import ModuleType

from jaxembed.config import FAMILIES, ModelConfig
from jaxembed.models import count, fasttext, glove, word2vec

PLUGINS: dict[str, ModuleType] = {model: module for family, module in (("word2vec", word2vec), ("glove", glove),
                                                                        ("fasttext", fasttext), ("ppmi", count),
                                                                        ("svd", count))
                                  for model in FAMILIES[family]}


def plugin(config: ModelConfig) -> ModuleType:
    """The plug-in module that trains `config.model`."""
    return PLUGINS[config.model]
