"""jaxembed: static word embeddings (word2vec, GloVe, fastText) as pure JAX functions."""
from jaxembed.io.fasttext import load_fasttext
from jaxembed.io.formats import load_vectors, save_vectors
from jaxembed.io.glove import load_glove, save_glove
from jaxembed.io.word2vec import load_word2vec, save_word2vec
from jaxembed.vectors import SubwordVectors, Vectors

__all__ = ["SubwordVectors", "Vectors", "load_fasttext", "load_glove", "load_vectors", "load_word2vec", "save_glove",
           "save_vectors", "save_word2vec"]
__version__ = "0.1.0"
