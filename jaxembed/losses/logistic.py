"""Binary logistic loss of one hidden vector against T output rows: the core of SGNS, CBOW and HS.

For hidden h (D,), output rows u_t (T×D), labels y_t ∈ {0, 1} and weights m_t ≥ 0:

    s_t = h·u_t,    L = Σ_t m_t · [ softplus(s_t) − y_t · s_t ]      (= −Σ m_t log σ(±s_t))

Hand-derived gradients, with g_t = m_t · (σ(s_t) − y_t):

    ∂L/∂h = Σ_t g_t u_t,        ∂L/∂u_t = g_t h.

`window_logistic_grads` is the same loss summed over C hidden vectors h_c (mask n_c) that share
one set of output rows — skip-gram's context words of one centre against the centre's Huffman
path — with g_ct = n_c m_t (σ(h_c·u_t) − y_t):

    ∂L/∂h_c = Σ_t g_ct u_t,     ∂L/∂u_t = Σ_c g_ct h_c.

The `*_coefficients` functions give g and the loss alone: an output row's gradient is then the outer product of its
coefficients and the hidden rows, which a large batch's optimiser step forms a chunk at a time
(parallel.FactoredRowUpdate, optim.sparse's update_factored) instead of holding all (B, T, D) of them.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def logistic_loss(h_D: jax.Array, out_TxD: jax.Array, labels_T: jax.Array, weights_T: jax.Array) -> jax.Array:
    """Per-example loss L (scalar), numerically stable for saturated scores."""
    s_T = out_TxD @ h_D
    return jnp.sum(weights_T * (jax.nn.softplus(s_T) - labels_T * s_T))


batch_logistic_loss = jax.vmap(logistic_loss)
"""(B,) losses for h_BxD, out_BxTxD, labels_BxT, weights_BxT."""


def logistic_coefficients(h_BxD: jax.Array, out_BxTxD: jax.Array, labels_BxT: jax.Array,
                          weights_BxT: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(g_BxT, loss_B): g_bt = m_bt (σ(h_b·u_bt) − y_bt), so ∂L/∂u_bt = g_bt h_b; labels (B, T) or a shared (T,) row."""
    s_BxT = jnp.einsum("bd,btd->bt", h_BxD, out_BxTxD)
    g_BxT = weights_BxT * (jax.nn.sigmoid(s_BxT) - labels_BxT)
    return g_BxT, jnp.sum(weights_BxT * (jax.nn.softplus(s_BxT) - labels_BxT * s_BxT), axis=-1)


def logistic_hidden_grads(g_BxT: jax.Array, out_BxTxD: jax.Array) -> jax.Array:
    """(B, D) ∂L/∂h_b = Σ_t g_bt u_bt from the coefficients g (`logistic_coefficients`) and the output rows u."""
    return jnp.einsum("bt,btd->bd", g_BxT, out_BxTxD)


def logistic_grads(h_BxD: jax.Array, out_BxTxD: jax.Array, labels_BxT: jax.Array,
                   weights_BxT: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Hand-derived (∂L/∂h_BxD, ∂L/∂out_BxTxD, loss_B) for the batch, equations in the module docstring.

    labels may be (B, T) or a shared (T,) row.
    """
    g_BxT, loss_B = logistic_coefficients(h_BxD, out_BxTxD, labels_BxT, weights_BxT)
    dh_BxD = logistic_hidden_grads(g_BxT, out_BxTxD)
    dout_BxTxD = g_BxT[:, :, None] * h_BxD[:, None, :]
    return dh_BxD, dout_BxTxD, loss_B


def window_logistic_coefficients(h_BxCxD: jax.Array, hidden_mask_BxC: jax.Array, out_BxTxD: jax.Array,
                                 labels_BxT: jax.Array, weights_BxT: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(g_BxCxT, loss_B) of L_b = Σ_c n_bc Σ_t L(h_bc, u_bt): g_bct = n_bc m_bt (σ(h_bc·u_bt) − y_bt), so
    ∂L/∂u_bt = Σ_c g_bct h_bc (module docstring)."""
    s_BxCxT = jnp.einsum("bcd,btd->bct", h_BxCxD, out_BxTxD)
    w_BxCxT = hidden_mask_BxC[:, :, None] * weights_BxT[:, None, :]
    labels_Bx1xT = labels_BxT[:, None, :] if labels_BxT.ndim == 2 else labels_BxT
    g_BxCxT = w_BxCxT * (jax.nn.sigmoid(s_BxCxT) - labels_Bx1xT)
    return g_BxCxT, jnp.sum(w_BxCxT * (jax.nn.softplus(s_BxCxT) - labels_Bx1xT * s_BxCxT), axis=(1, 2))


def window_logistic_grads(h_BxCxD: jax.Array, hidden_mask_BxC: jax.Array, out_BxTxD: jax.Array, labels_BxT: jax.Array,
                          weights_BxT: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Hand-derived (∂L/∂h_BxCxD, ∂L/∂out_BxTxD, loss_B) of L_b = Σ_c n_bc Σ_t L(h_bc, u_bt) (module docstring)."""
    g_BxCxT, loss_B = window_logistic_coefficients(h_BxCxD, hidden_mask_BxC, out_BxTxD, labels_BxT, weights_BxT)
    dh_BxCxD = jnp.einsum("bct,btd->bcd", g_BxCxT, out_BxTxD)
    return dh_BxCxD, sum_over_window(g_BxCxT, h_BxCxD), loss_B


UNROLLED_SLOTS = 64
"""The widest window (2 · window slots) whose sum `sum_over_window` unrolls."""


def sum_over_window(g_BxCxT: jax.Array, h_BxCxD: jax.Array) -> jax.Array:
    """(B, T, D) Σ_c g_bct h_bc: for 1 < C <= UNROLLED_SLOTS, C broadcast products summed, which XLA fuses
    into one loop (XLA:CPU runs the einsum's contraction over the window axis, minor in neither operand,
    as a slow batched dot, a third of the skip-gram-HS step); otherwise one einsum, whose program does not
    grow with C."""
    if h_BxCxD.shape[1] == 1 or h_BxCxD.shape[1] > UNROLLED_SLOTS:
        return jnp.einsum("bct,bcd->btd", g_BxCxT, h_BxCxD)
    return sum(g_BxCxT[:, c, :, None] * h_BxCxD[:, c, None, :] for c in range(h_BxCxD.shape[1]))
