r"""Similarity Network Fusion (SNF) and label propagation on a precomputed graph, in numpy.

SNF is Wang et al. 2014, "Similarity network fusion for aggregating data types on a genomic
scale", Nature Methods 11:333 (https://doi.org/10.1038/nmeth.2810). We write it ourselves
because ``snfpy`` 0.2.2 fails at run time with scikit-learn >= 1.6.

For each view :math:`v` with samples :math:`x_1 .. x_n`:

- affinity (paper eq. 1), :math:`\rho` the Euclidean distance, :math:`\bar\rho_i` the mean
  distance of :math:`x_i` to its ``K`` nearest neighbours:

  .. math:: W(i,j) = \exp\left(-\frac{\rho^2(x_i,x_j)}{\mu\,\varepsilon_{ij}}\right),\quad
            \varepsilon_{ij} = \frac{\bar\rho_i + \bar\rho_j + \rho(x_i,x_j)}{3}

- normalised status matrix (eq. 2), the "half-diagonal" convention: off-diagonal entries are
  :math:`W(i,j) / (2 \sum_{k \ne i} W(i,k))` and the diagonal is 1/2, so every row sums to 1;
- local (KNN) kernel (eq. 3): :math:`S(i,j) = W(i,j) / \sum_{k \in N_i} W(i,k)` for
  :math:`j \in N_i` (the ``K`` most similar samples of :math:`x_i`, :math:`x_i` included), else 0;
- cross-diffusion (eq. 4/5): :math:`P_v \leftarrow S_v \big(\frac{1}{m-1}\sum_{k \ne v} P_k\big) S_v^\top`
  for ``t`` iterations; the fused network is the mean of the :math:`P_v`.

Choices where the paper is silent, taken from the authors' R package SNFtool (``SNF()``):
after the initial normalisation and after every diffusion step each :math:`P_v` is normalised
again (eq. 2) and symmetrised, :math:`(P + P^\top)/2`; so the fused network is symmetric.
Deviations from SNFtool (which follows the paper less closely): SNFtool's ``affinityMatrix``
evaluates a Gaussian *density* of the *squared* distance with standard deviation
:math:`\mu\varepsilon_{ij}`; we use the paper's kernel above. SNFtool builds :math:`S` from the
normalised, symmetrised :math:`P`; we build it from :math:`W` as eq. 3 says. SNFtool's final
``normalize`` + ``(W + W^T + I)/2`` step is not applied (label propagation below ignores the
diagonal anyway). With a single view there is nothing to diffuse across: the fused network
is that view's normalised, symmetrised :math:`P`.

Label propagation is Zhou et al. 2004, "Learning with local and global consistency" (NIPS).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse
from scipy.spatial.distance import pdist, squareform


def _check_k(K: int, n_samples: int) -> int:
    if int(K) < 1:
        msg = f"K must be a positive number of neighbours (got {K})"
        raise ValueError(msg)
    return min(int(K), n_samples - 1)


def affinity_matrix(X: np.ndarray, K: int = 20, mu: float = 0.5) -> np.ndarray:
    r"""Scaled exponential similarity kernel of one view (Wang et al. 2014, eq. 1).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        One view, already scaled; no NaN.
    K : int, default=20
        Neighbours whose mean distance sets each sample's local scale (at most n_samples - 1).
    mu : float, default=0.5
        Kernel width, recommended in [0.3, 0.8].

    Returns
    -------
    W : ndarray of shape (n_samples, n_samples)
        Symmetric, entries in (0, 1], unit diagonal.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        msg = f"X must be a 2-d array with at least two samples (got shape {X.shape})"
        raise ValueError(msg)
    if not np.isfinite(X).all():
        msg = "X holds NaN or infinite values; impute them first"
        raise ValueError(msg)
    if mu <= 0:
        msg = f"mu must be positive (got {mu})"
        raise ValueError(msg)
    K = _check_k(K, X.shape[0])
    rho = squareform(pdist(X, metric="euclidean"))  # exactly symmetric, zero diagonal
    # Column 0 of each sorted row is the sample itself (distance 0).
    mean_knn = np.sort(rho, axis=1)[:, 1 : K + 1].mean(axis=1)
    eps = (mean_knn[:, None] + mean_knn[None, :] + rho) / 3
    # Identical samples whose neighbours are identical too give eps = 0 (and rho = 0: W = 1).
    eps = np.maximum(eps, np.finfo(np.float64).eps)
    return np.exp(-(rho**2) / (mu * eps))


def normalize_affinity(W: np.ndarray) -> np.ndarray:
    """Status matrix P of eq. 2: off-diagonal ``W(i,j) / (2 sum_{k!=i} W(i,k))``, diagonal 1/2.

    Every row sums to 1 (a row without off-diagonal mass keeps only its 1/2 on the diagonal).
    """
    W = np.asarray(W, dtype=np.float64)
    P = W.copy()
    np.fill_diagonal(P, 0.0)
    row_sums = P.sum(axis=1)
    row_sums[row_sums == 0] = 1.0
    P /= 2 * row_sums[:, None]
    np.fill_diagonal(P, 0.5)
    return P


def knn_kernel(W: np.ndarray, K: int = 20) -> np.ndarray:
    """Local kernel S of eq. 3: row i keeps its ``K`` most similar samples (itself included), rows sum to 1."""
    W = np.asarray(W, dtype=np.float64)
    n = W.shape[0]
    K = _check_k(K, n + 1)  # K may equal n here: every sample is a neighbour
    order = W.copy()
    np.fill_diagonal(order, np.inf)  # the sample itself is always in its neighbourhood
    neighbours = np.argsort(-order, axis=1, kind="stable")[:, :K]
    rows = np.repeat(np.arange(n), K)
    S = np.zeros_like(W)
    S[rows, neighbours.ravel()] = W[rows, neighbours.ravel()]
    sums = S.sum(axis=1)
    sums[sums == 0] = 1.0
    return S / sums[:, None]


def _status(W: np.ndarray) -> np.ndarray:
    P = normalize_affinity(W)
    return (P + P.T) / 2


def snf(affinities: Sequence[np.ndarray], K: int = 20, t: int = 20) -> np.ndarray:
    """Fuse per-view affinity matrices by cross-diffusion (Wang et al. 2014, eqs. 2-5).

    Parameters
    ----------
    affinities : sequence of ndarray of shape (n_samples, n_samples)
        One symmetric affinity matrix per view (e.g. from :func:`affinity_matrix`).
    K : int, default=20
        Neighbours kept in each view's local kernel S.
    t : int, default=20
        Diffusion iterations.

    Returns
    -------
    fused : ndarray of shape (n_samples, n_samples)
        Symmetric fused similarity network (mean of the diffused status matrices).
    """
    affinities = [np.asarray(W, dtype=np.float64) for W in affinities]
    if not affinities:
        msg = "snf needs at least one affinity matrix"
        raise ValueError(msg)
    n = affinities[0].shape[0]
    shapes = {W.shape for W in affinities}
    if shapes != {(n, n)}:
        msg = f"affinity matrices must all be square and of the same size (got shapes {sorted(shapes)})"
        raise ValueError(msg)
    statuses = [_status(W) for W in affinities]
    n_views = len(statuses)
    if n_views == 1:
        return statuses[0]
    # S has K non-zeros a row: sparse products cost n*K*n instead of n^3.
    kernels = [sparse.csr_matrix(knn_kernel(W, K)) for W in affinities]
    for _ in range(int(t)):
        total = sum(statuses)
        diffused = []
        for v in range(n_views):
            others = (total - statuses[v]) / (n_views - 1)
            left = np.asarray(kernels[v] @ others)  # S_v P
            diffused.append(np.asarray(kernels[v] @ left.T).T)  # (S_v (S_v P)^T)^T = S_v P S_v^T
        statuses = [_status(P) for P in diffused]
    fused = sum(statuses) / n_views
    return (fused + fused.T) / 2


def label_propagation(
    affinity: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    *,
    alpha: float = 0.9,
    max_iter: int = 1000,
    tol: float = 1e-6,
) -> np.ndarray:
    r"""Spread known labels over a precomputed graph (Zhou et al. 2004).

    With :math:`W` the affinity without self-loops and :math:`D` its degrees, iterate

    .. math:: F \leftarrow \alpha D^{-1/2} W D^{-1/2} F + (1 - \alpha) Y

    from :math:`F = Y` (one-hot rows for labelled samples, zero rows otherwise) until the
    largest change is below ``tol``. scikit-learn's ``LabelSpreading`` does the same iteration
    but only builds its graph from features (``'rbf'``, ``'knn'`` or a kernel of feature
    arrays); it takes no precomputed graph such as a fused SNF network, hence these lines.

    Parameters
    ----------
    affinity : ndarray of shape (n_samples, n_samples)
        Symmetric, non-negative.
    labels : ndarray of int of shape (n_samples,)
        Class index in ``0 .. n_classes - 1``, or -1 for unlabelled samples.
    n_classes : int
    alpha : float, default=0.9
        Share of a node's label mass taken from its neighbours, in (0, 1).
    max_iter : int, default=1000
    tol : float, default=1e-6

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Rows normalised to sum to 1; a sample the labels never reach gets the labelled
        samples' class frequencies.
    """
    if not 0 < alpha < 1:
        msg = f"alpha must lie in (0, 1) (got {alpha})"
        raise ValueError(msg)
    labels = np.asarray(labels)
    W = np.array(affinity, dtype=np.float64)
    if W.shape != (len(labels), len(labels)):
        msg = f"affinity has shape {W.shape} but there are {len(labels)} labels"
        raise ValueError(msg)
    np.fill_diagonal(W, 0.0)
    degree = W.sum(axis=1)
    scale = np.zeros_like(degree)
    scale[degree > 0] = 1 / np.sqrt(degree[degree > 0])
    S = scale[:, None] * W * scale[None, :]
    Y = np.zeros((len(labels), n_classes))
    labelled = labels >= 0
    Y[np.flatnonzero(labelled), labels[labelled]] = 1.0
    F = Y.copy()
    for _ in range(max_iter):
        updated = alpha * (S @ F) + (1 - alpha) * Y
        change = np.abs(updated - F).max()
        F = updated
        if change < tol:
            break
    totals = F.sum(axis=1, keepdims=True)
    prior = Y[labelled].mean(axis=0)
    return np.where(totals > 0, F / np.where(totals > 0, totals, 1.0), prior)
