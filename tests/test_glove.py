"""GloVe training: the worked 3-word example fits log X, determinism, and the corpus-level trainer."""
import numpy as np
import pytest

from jaxembed.config import GloveConfig, make_config
from jaxembed.data.cooccur import Cooccurrences
from jaxembed.errors import ConfigError
from jaxembed.fit import fit, train_model
from jaxembed.models.glove import counts_model, glove_vectors
from jaxembed.optim.sparse import adagrad_rows
from jaxembed.parallel import data_mesh

CAT_DOG_PET = np.array([[2, 3, 5], [3, 1, 4], [5, 4, 2]], float)


def dense_cooccurrences(x):
    rows, cols = np.nonzero(x)
    return Cooccurrences(rows.astype(np.int32), cols.astype(np.int32), x[rows, cols], len(x))


def fit_counts(cooc, config):
    """Train the GloVe model on given counts on one device: (final state, loss per nonzero per epoch, model)."""
    mesh = data_mesh(1)
    model = counts_model(cooc, config, mesh.size)
    state, position = train_model(model, config, mesh)
    return state, position.epoch_losses, model


def params_of(state):
    """The (2V, D+1) parameters of the packed Adagrad table."""
    return np.asarray(adagrad_rows().params(state.table_Rx2E))


def fitted_log_x(params, vocab_size, dim):
    """w_i·w̃_j + b_i + b̃_j for every pair."""
    word, context = params[:vocab_size], params[vocab_size:]
    return word[:, :dim] @ context[:, :dim].T + word[:, dim:] + context[:, dim][None, :]


def test_worked_example_fits_log_counts():
    """cat/dog/pet with 2-d vectors: rank-2 products plus biases can fit the 3×3 log X exactly."""
    config = GloveConfig(dim=2, epochs=1500, batch_size=3, batches_per_call=3, x_max=10.0)
    state, losses, _ = fit_counts(dense_cooccurrences(CAT_DOG_PET), config)
    error = np.abs(fitted_log_x(params_of(state), 3, 2) - np.log(CAT_DOG_PET))
    assert error.max() < 1e-3, error
    assert losses[-1] < 1e-4 * losses[0]


def test_same_seed_same_vectors_and_output_modes():
    config = GloveConfig(dim=3, epochs=5, batch_size=4, batches_per_call=2)
    cooc = dense_cooccurrences(CAT_DOG_PET)
    first, _, model = fit_counts(cooc, config)
    second = fit_counts(cooc, config)[0]
    np.testing.assert_array_equal(first.table_Rx2E, second.table_Rx2E)
    params = params_of(first)
    np.testing.assert_array_equal(glove_vectors(params, 3, "w+c"), params[:3, :3] + params[3:, :3])
    np.testing.assert_array_equal(glove_vectors(params, 3, "w"), params[:3, :3])
    np.testing.assert_array_equal(model.outputs(first).vectors.vectors, params[:3, :3] + params[3:, :3])


def test_trainer_on_corpus_learns_and_reports(small_corpus):
    config = GloveConfig(dim=16, epochs=3, min_count=3, x_max=10.0)
    result = fit(small_corpus, config, progress=False)
    losses = result.metrics["epoch_losses"]
    assert losses[2] < losses[0]
    assert result.metrics["nonzeros"] > 10 * result.metrics["vocab_size"]
    assert result.vectors.vectors.shape == (result.metrics["vocab_size"], 16)
    assert np.isfinite(result.vectors.vectors).all()


@pytest.mark.parametrize("field,value,message", [("x_max", 0.0, "x_max"), ("weight_exponent", -1.0, "weight_exponent"),
                                                 ("output", "both", "output"), ("eta", 0.0, "eta")])
def test_invalid_glove_settings(field, value, message):
    with pytest.raises(ConfigError, match=message):
        GloveConfig(**{field: value})


def test_word2vec_settings_rejected_for_glove():
    with pytest.raises(ConfigError, match=r"\['negative'\] do not apply to model 'glove'"):
        make_config({"model": "glove", "negative": 5})
    with pytest.raises(ConfigError, match="its weighting exponent \\(GloVe C's -alpha\\) is weight_exponent"):
        make_config({"model": "glove", "alpha": 0.75})
