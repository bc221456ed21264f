"""GloVe (Pennington et al. 2014): weighted least squares on the log co-occurrence counts.

For a nonzero X_ij with word row w_i, bias b_i, context row w̃_j and bias b̃_j:

    e = w_i·w̃_j + b_i + b̃_j − log X_ij,     f(x) = min(1, (x / x_max)^α),     L = ½ f(X_ij) e²

(α is `weight_exponent`, GloVe C's -alpha; the ½ is GloVe C's cost convention: the paper's J omits
it, which only rescales the learning rate by 2). Hand-derived gradients, with g = f(X_ij) e:

    ∂L/∂w_i = g w̃_j,   ∂L/∂w̃_j = g w_i,   ∂L/∂b_i = ∂L/∂b̃_j = g.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def glove_weight(x_B: jax.Array, x_max: float, weight_exponent: float) -> jax.Array:
    """f(x) = min(1, (x / x_max)^α), (B,)."""
    return jnp.minimum(1.0, (x_B / x_max) ** weight_exponent)


def glove_residual(w_BxD, wc_BxD, b_B, bc_B, log_x_B) -> jax.Array:
    """e = w·w̃ + b + b̃ − log X, (B,)."""
    return jnp.einsum("bd,bd->b", w_BxD, wc_BxD) + b_B + bc_B - log_x_B


def glove_loss(w_BxD, wc_BxD, b_B, bc_B, x_B, x_max: float = 100.0, weight_exponent: float = 0.75) -> jax.Array:
    """(B,) per-nonzero losses ½ f(X) e²; the batch loss is their sum."""
    e_B = glove_residual(w_BxD, wc_BxD, b_B, bc_B, jnp.log(x_B))
    return 0.5 * glove_weight(x_B, x_max, weight_exponent) * e_B ** 2


def glove_grads(w_BxD, wc_BxD, b_B, bc_B, x_B, x_max: float = 100.0, weight_exponent: float = 0.75):
    """Hand-derived (∂/∂w_BxD, ∂/∂wc_BxD, ∂/∂b_B, ∂/∂bc_B, loss_B) of Σ_b L_b (module docstring)."""
    e_B = glove_residual(w_BxD, wc_BxD, b_B, bc_B, jnp.log(x_B))
    f_B = glove_weight(x_B, x_max, weight_exponent)
    g_B = f_B * e_B
    return g_B[:, None] * wc_BxD, g_B[:, None] * w_BxD, g_B, g_B, 0.5 * f_B * e_B ** 2
