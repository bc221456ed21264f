"""The expected SGNS objective (Levy & Goldberg 2014) as a pure jax function, its optimum, and solvers.

Over all word–context pairs, with #(w, c) the pair counts, #w = Σ_c #(w, c), k noise words drawn
from P_n and scores x_wc = w·c, the loss to minimise (the negated objective) is

    ℓ(x) = −Σ_{w,c} [ #(w, c) log σ(x_wc) + n_wc log σ(−x_wc) ],    n_wc = k #w P_n(c).

It is a sum of independent convex terms, one per cell, so with d ≥ V (any score matrix is some
W Cᵀ) its minimiser is cellwise: x*_wc = log(#(w, c) / n_wc) — shifted PMI — where #(w, c) > 0,
and x → −∞ where the pair was never seen (those terms tend to 0). The optimal value is therefore

    ℓ* = −Σ_{#(w,c)>0} [ #(w, c) log(#/(# + n)) + n log(n/(# + n)) ].

Two solvers: `newton_scores` minimises ℓ over the score matrix with Newton's method (gradient and
the diagonal curvature by autodiff; exact for a separable loss) and is factored afterwards
(`theory.pmi.svd_embeddings`, exact for d = V); `fit_expected_sgns` minimises ℓ(W Cᵀ) over the
factors with optax L-BFGS, which the rare pairs' tiny curvature makes slow (the contrast is the
point of experiments/sgns_spmi.py).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxembed.theory.pmi import shifted_pmi


def negative_counts(counts_VxV, k: float, noise_V):
    """(V, V) n_wc = k #w P_n(c) (works on numpy and jax arrays)."""
    return k * counts_VxV.sum(axis=1)[:, None] * noise_V[None, :]


def scores_objective(scores_VxV: jax.Array, counts_VxV: jax.Array, negatives_VxV: jax.Array) -> jax.Array:
    """ℓ(x) = −Σ [#(w,c) log σ(x) + n_wc log σ(−x)] for a score matrix x (module docstring)."""
    return -jnp.sum(counts_VxV * jax.nn.log_sigmoid(scores_VxV) + negatives_VxV * jax.nn.log_sigmoid(-scores_VxV))


def expected_sgns_objective(w_VxD: jax.Array, c_VxD: jax.Array, counts_VxV: jax.Array, k: float,
                            noise_V: jax.Array) -> jax.Array:
    """ℓ(W Cᵀ): the negated expected SGNS objective of word vectors W and context vectors C."""
    return scores_objective(w_VxD @ c_VxD.T, counts_VxV, negative_counts(counts_VxV, k, noise_V))


def optimal_objective(counts_VxV: np.ndarray, k: float, noise_V: np.ndarray) -> float:
    """ℓ*, the infimum of ℓ: observed cells at shifted PMI, unobserved cells contributing 0 (module docstring)."""
    negatives = negative_counts(counts_VxV, k, noise_V)
    seen = counts_VxV > 0
    count, neg = counts_VxV[seen], negatives[seen]
    return float(-np.sum(count * np.log(count / (count + neg)) + neg * np.log(neg / (count + neg))))


def deviation_percent(value: float, optimum: float) -> float:
    """100 (ℓ − ℓ*) / ℓ*: Levy & Goldberg's "% deviation from the optimal objective"."""
    return 100.0 * (value - optimum) / optimum


def score_errors(scores_VxV: np.ndarray, target_VxV: np.ndarray, observed_VxV: np.ndarray) -> tuple[float, float]:
    """(max |x − SPMI|, RMSE) over the observed pairs."""
    gap = np.abs(np.asarray(scores_VxV, np.float64) - target_VxV)[observed_VxV]
    return float(gap.max()), float(np.sqrt(np.mean(gap ** 2)))


def newton_scores(counts_VxV: np.ndarray, k: float, noise_V: np.ndarray, steps: int, max_step: float = 4.0):
    """Minimise ℓ over the score matrix from x = 0 with Newton's method, in float64.

    The loss is separable, so its Hessian is diagonal: curvature = ∂/∂x Σ ∂ℓ/∂x, both by autodiff.
    Each cell moves by −g/h clipped to ±max_step (the logistic terms are flat far from the optimum).
    Returns (scores_VxV, history): history [(step, ℓ, max |x − SPMI|, RMSE)] over observed pairs, every step.
    """
    with jax.enable_x64(True):
        counts = jnp.asarray(counts_VxV, jnp.float64)
        negatives = negative_counts(counts, k, jnp.asarray(noise_V / noise_V.sum(), jnp.float64))
        loss = functools.partial(scores_objective, counts_VxV=counts, negatives_VxV=negatives)
        gradient = jax.grad(loss)
        curvature = jax.grad(lambda x: jnp.sum(gradient(x)))

        @jax.jit
        def step(x):
            return x - jnp.clip(gradient(x) / curvature(x), -max_step, max_step)

        target, observed = shifted_pmi(counts_VxV, k, noise_V), counts_VxV > 0
        scores, history = jnp.zeros(counts.shape, jnp.float64), []
        for n in range(steps + 1):
            if n:
                scores = step(scores)
            history.append((n, float(loss(scores)), *score_errors(np.asarray(scores), target, observed)))
        return np.asarray(scores), history


def fit_expected_sgns(counts_VxV: np.ndarray, k: float, noise_V: np.ndarray, dim: int, steps: int,
                      seed: int = 0, log_every: int = 0):
    """Minimise `expected_sgns_objective` over the factors full-batch with optax L-BFGS (zoom line
    search), in float64: the objective sums |D| pair terms, and float32 cannot resolve the changes of
    rare pairs.

    Returns (W_VxD, C_VxD, history): history is [(step, objective, max |w·c − SPMI|, RMSE)] over
    pairs with #(w, c) > 0, every `log_every` steps (0: only at the end).
    """
    with jax.enable_x64(True):
        return _fit_expected_sgns(counts_VxV, k, noise_V, dim, steps, seed, log_every)


def _fit_expected_sgns(counts_VxV, k, noise_V, dim, steps, seed, log_every):
    target = shifted_pmi(counts_VxV, k, noise_V)
    observed = counts_VxV > 0
    counts, noise = jnp.asarray(counts_VxV, jnp.float64), jnp.asarray(noise_V / noise_V.sum(), jnp.float64)
    key_w, key_c = jax.random.split(jax.random.key(seed))
    vocab_size = counts_VxV.shape[0]
    params = tuple(jax.random.uniform(key, (vocab_size, dim), jnp.float64, -0.5 / dim, 0.5 / dim) for key in (key_w, key_c))
    loss = lambda p: expected_sgns_objective(p[0], p[1], counts, k, noise)
    optimizer = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(loss)

    @functools.partial(jax.jit, static_argnums=2)
    def run(params, opt_state, n):
        def one(carry, _):
            p, s = carry
            value, grad = value_and_grad(p, state=s)
            updates, s = optimizer.update(grad, s, p, value=value, grad=grad, value_fn=loss)
            return (optax.apply_updates(p, updates), s), None
        return jax.lax.scan(one, (params, opt_state), None, length=n)[0]

    opt_state, history, done = optimizer.init(params), [], 0
    while done < steps:
        n = min(log_every or steps, steps - done)
        params, opt_state = run(params, opt_state, n)
        done += n
        history.append((done, float(loss(params)), *score_errors(np.asarray(params[0] @ params[1].T), target, observed)))
    return np.asarray(params[0]), np.asarray(params[1]), history
