r"""The E/I primitives shared by the feed-forward E/I layers (:mod:`neurorx.ei.layers`) and the Dale cells
(:mod:`neurorx.models.cells`): sizing, Dale projection, the initialisation of the inhibitory pathways and the
homeostatic loss.

Sizing conventions. A feed-forward E/I layer is given its excitatory width :math:`n_E` and has
:math:`n_I = \max(1, \lfloor r\,n_E \rfloor)` subtractive interneurons (:func:`n_inhibitory`, ``r = 0.1``
after Cornford et al. 2021 and ``ei_norm.md`` §2). A recurrent Dale network is given its total size :math:`N` and
has :math:`N_E = \min(N-1, \max(1, \mathrm{round}(f N)))` excitatory units (:func:`n_excitatory`, ``f = 0.8``,
Song, Yang & Wang 2016). The two describe the same split (:math:`r = (1-f)/f`) from the side each model is
specified by. A divisive pool has :math:`k = \min(n_E, \text{limit})` units (:func:`pool_size`).

Notes
-----
Every function works in place on, or returns, torch tensors in the layout of the caller (torch ``[post, pre]``).
"""

from __future__ import annotations

import math

import torch

from neurorx.errors import ConfigurationError

__all__ = [
    "balanced_inhibition",
    "centred_pool",
    "homeostatic_loss",
    "n_excitatory",
    "n_inhibitory",
    "pool_size",
    "project_dale_",
    "svd_pool",
]


def n_inhibitory(n_e: int, i_ratio: float = 0.1) -> int:
    """Subtractive interneurons of a layer of ``n_e`` excitatory units: ``max(1, floor(i_ratio * n_e))``."""
    return max(1, math.floor(i_ratio * n_e))


def n_excitatory(n_total: int, fraction: float = 0.8) -> int:
    """Excitatory units of a network of ``n_total`` units: ``round(fraction * n_total)``, at least one E and one I.

    Raises
    ------
    ConfigurationError
        If ``n_total < 2``.
    """
    if n_total < 2:
        raise ConfigurationError(f"a dale network needs at least 2 units (one E, one I); got n_rec = {n_total}")
    return min(n_total - 1, max(1, round(fraction * n_total)))


def pool_size(n_e: int, limit: int | None = None) -> int:
    """Units of a divisive pool over ``n_e`` excitatory units: ``n_e``, or ``limit`` if smaller."""
    return n_e if limit is None else min(n_e, int(limit))


def project_dale_(weight: torch.Tensor, n_excitatory: int | None = None) -> torch.Tensor:
    r"""Project a weight matrix onto Dale's law in place (projected gradient descent); returns ``weight``.

    Parameters
    ----------
    weight : tensor (post, pre)
    n_excitatory : int, optional
        ``None``: ``weight`` holds magnitudes (every entry :math:`\ge 0`, as the E/I layers' ``W_EE``, ``W_IE``,
        ``W_EI``). An integer :math:`N_E`: ``weight`` is signed by its presynaptic population, columns
        ``0..N_E-1`` excitatory (:math:`\ge 0`) and the rest inhibitory (:math:`\le 0`), as a Dale cell's ``w_rec``.

    Notes
    -----
    Wrong-signed entries become zero: :math:`W \leftarrow \max(W, 0)` (and :math:`\min(W, 0)` on I columns).
    """
    with torch.no_grad():
        if n_excitatory is None:
            weight.clamp_(min=0.0)
        else:
            weight[:, :n_excitatory].clamp_(min=0.0)
            weight[:, n_excitatory:].clamp_(max=0.0)
    return weight


def balanced_inhibition(w_ee: torch.Tensor, w_ei: torch.Tensor, n_i: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The subtractive pathway that removes the mean excitatory drive: ``(W_IE, W_EI)``.

    Parameters
    ----------
    w_ee : tensor (n_e, d)
        Excitatory weights (magnitudes).
    w_ei : tensor (n_e, n_i)
        Inhibitory-to-excitatory magnitudes; their rows are normalised to sum 1.
    n_i : int
        Interneurons (rows of ``W_IE``).

    Notes
    -----
    Every row of :math:`W_{IE}` is the column mean of :math:`W_{EE}` and every row of :math:`W_{EI}` sums to 1, so

    .. math:: W_{EI} W_{IE} h = \operatorname{mean}_k (W_{EE} h)_k

    for every excitatory unit (``ei_norm.md`` §2): subtracting it centres the drive over the E units.
    """
    w_ie = w_ee.mean(dim=0, keepdim=True).repeat(n_i, 1)
    return w_ie, w_ei / w_ei.sum(dim=1, keepdim=True).clamp_min(1e-12)


def svd_pool(w_ee: torch.Tensor, w_ei: torch.Tensor, w_ie: torch.Tensor, k: int | None = None, *,
             scale: float = 1.0) -> torch.Tensor:
    r"""Weights :math:`U` onto a divisive pool: the top ``k`` singular directions of the centred drive.

    Parameters
    ----------
    w_ee, w_ei, w_ie : tensor
        The blocks of the centred drive :math:`W = W_{EE} - W_{EI}W_{IE}` (``n_e x d``), computed in their dtype.
    k : int, optional
        Pool units (default: every singular value, ``min(n_e, d)``).
    scale : float
        Factor on :math:`U`. The I-Norm layer reads the pool with :math:`U_{EI} = 1/n_E` and takes
        ``scale = 1``; the Dale cell averages over its ``k`` pool units and takes :math:`\sqrt{k/n_E}`.

    Returns
    -------
    tensor (k, d)
        :math:`U = \text{scale}\cdot\operatorname{diag}(S_k)V_k^\top` from the SVD :math:`W = U_s S V^\top`, in
        float64 (the SVD's precision); cast it to the parameter's dtype.

    Notes
    -----
    With all singular directions, :math:`\|U h\|^2 = \text{scale}^2 \|W h\|^2`: for ``scale = 1`` and
    :math:`U_{EI} = 1/n_E`, :math:`U_{EI}(Uh)^2 = \|Wh\|^2/n_E`, the variance of the centred drive (the layer is
    LayerNorm at initialisation); for :math:`\sqrt{k/n_E}` and ``k = n_E``, :math:`\frac1k\sum_k (Uh)_k^2` is
    the same variance.
    """
    w = (w_ee - w_ei @ w_ie).to(torch.float64)
    _, s, vh = torch.linalg.svd(w, full_matrices=False)
    k = s.shape[0] if k is None else k
    return scale * s[:k, None] * vh[:k]


def centred_pool(a: torch.Tensor, k: int | None = None, *, scale: float = 1.0) -> torch.Tensor:
    r"""Weights :math:`U` onto a divisive pool that reads the *spread over units* of drives :math:`d = a\,y`.

    Parameters
    ----------
    a : tensor (n, m)
        The map from the drive's inputs :math:`y` to the drive :math:`d` (for the recurrent I-Norm cell
        :math:`[W_{EE}\;W_{in,E}\;b_E]`, so :math:`d = W_{EE} r_E + u_E`).
    k : int, optional
        Pool units (default ``n``).
    scale : float
        Factor on :math:`U`; :math:`\sqrt{k/n}` makes :math:`\frac1k\sum_k (U d)_k^2` the variance over units.

    Returns
    -------
    tensor (k, n)
        :math:`U = \text{scale}\cdot L_k^\top`, float64: the top ``k`` left singular vectors of :math:`C a`
        (:math:`C = I - \mathbf{1}\mathbf{1}^\top/n`, the centring matrix), a row zeroed where its singular
        value is below :math:`10^{-10}` of the largest (the mean direction, which :math:`C` removes).

    Notes
    -----
    Every drive :math:`d = a y` has :math:`C d` in the span of those vectors, so with all of them
    (``k = n``, ``scale`` :math:`= 1`) :math:`\|U d\|^2 = \|C d\|^2 = n \operatorname{Var}_i d_i`: with
    ``scale`` :math:`=\sqrt{k/n}`, :math:`\frac1k\sum_k (U d)_k^2 = \operatorname{Var}_i d_i` exactly
    (LayerNorm's denominator, whatever :math:`y`). A smaller ``k`` keeps the directions the drive spans most.
    """
    a = a.to(torch.float64)
    n = a.shape[0]
    k = n if k is None else k
    centred = a - a.mean(dim=0, keepdim=True)
    left, s, _ = torch.linalg.svd(centred, full_matrices=False)
    keep = (s > 1e-10 * s.max().clamp_min(1e-300)).to(torch.float64)
    u = torch.zeros(k, n, dtype=torch.float64)
    m = min(k, s.shape[0])
    u[:m] = (keep[:m, None] * left[:, :m].T)
    return scale * u


def homeostatic_loss(z: torch.Tensor, lam: float = 1.0) -> torch.Tensor:
    r"""The homeostatic loss of ``ei_norm.md`` §2 of normalised drives ``z (..., n)``, weighted by ``lam``.

    Notes
    -----
    .. math:: L_I = \lambda\,\operatorname{mean}\big[(\operatorname{mean}_k z_k)^2
              + (\operatorname{Var}_k z_k - 1)^2\big]

    over all leading axes (images; time steps and trials); :math:`\operatorname{Var}_k` is the population
    variance, as LayerNorm's. It is zero when the drive is centred with unit variance over the units.
    """
    mean = z.mean(dim=-1)
    var = z.var(dim=-1, unbiased=False)
    loss = (mean ** 2 + (var - 1.0) ** 2).mean()
    return loss if lam == 1.0 else lam * loss
