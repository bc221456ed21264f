"""jaxembed: static word embeddings (word2vec, GloVe, fastText, and the count-based PPMI and SVD) as pure JAX functions:
train, verify, evaluate, exchange.

Training: `jaxembed.train_word2vec(corpus, **settings)` (also train_fasttext, train_glove; settings under
jaxembed's or gensim's names), or `from jaxembed.fit import fit` for any model (the module keeps its name, so
`fit` is not re-exported here).
"""
from jaxembed.config import FastTextConfig, GloveConfig, PpmiConfig, SvdConfig, Word2VecConfig, load_config
from jaxembed.io.fasttext import load_fasttext
from jaxembed.io.formats import load_vectors, save_vectors
from jaxembed.io.glove import load_glove, save_glove
from jaxembed.io.sparse import load_sparse, save_sparse
from jaxembed.io.word2vec import load_word2vec, save_word2vec
from jaxembed.phrases import PhraseConfig, learn_phrases, phrase_passes
from jaxembed.vectors import SparseVectors, SubwordVectors, Vectors

__all__ = ["FastTextConfig", "GloveConfig", "PhraseConfig", "PpmiConfig", "SparseVectors", "SubwordVectors",
           "SvdConfig", "Vectors", "Word2VecConfig", "learn_phrases", "load_config", "load_fasttext", "load_glove",
           "load_sparse", "load_vectors", "load_word2vec", "phrase_passes", "save_glove", "save_sparse",
           "save_vectors", "save_word2vec", "train_fasttext", "train_glove", "train_word2vec"]
__version__ = "0.1.0"
TRAINERS = ("train_fasttext", "train_glove", "train_word2vec")


def __getattr__(name: str):
    """The trainers, imported on first use: they need jax, which `import jaxembed` alone (and the commands that
    only read vectors) does not load."""
    if name in TRAINERS:
        from jaxembed import trainers
        return getattr(trainers, name)
    raise AttributeError(f"module 'jaxembed' has no attribute {name!r}")
