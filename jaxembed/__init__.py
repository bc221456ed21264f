"""jaxembed: static word embeddings (word2vec, GloVe, fastText) as pure JAX functions."""
from jaxembed.io.fasttext import load_fasttext
from jaxembed.io.word2vec import load_word2vec, save_word2vec
from jaxembed.vectors import SubwordVectors, Vectors

__all__ = ["SubwordVectors", "Vectors", "load_fasttext", "load_word2vec", "save_word2vec"]
__version__ = "0.1.0"
