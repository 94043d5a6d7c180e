"""ComBat batch correction (parametric empirical Bayes, Johnson et al. 2007), split into fit and apply.

The location/scale estimates (grand mean, pooled variance, per-batch ``gamma*`` and ``delta*``)
come from the training rows and the standardise -> subtract ``gamma*`` -> divide by
``sqrt(delta*)`` -> un-standardise map is then applied to any row of a known batch. On the
training rows it reproduces ``inmoose.pycombat.pycombat_norm`` (parametric priors, no reference
batch, no covariates) to floating-point precision; the tests check this.
"""

from __future__ import annotations

import numpy as np
from sklearn.exceptions import NotFittedError

from ..errors import InputError, preview

__all__ = ["ComBat"]


class ComBat:
    """Parametric empirical-Bayes ComBat (Johnson, Li & Rabinovic 2007) with a fit/apply split.

    ``fit`` estimates, from training rows only, the grand mean and pooled variance of every
    feature and the per-batch additive (``gamma*``) and multiplicative (``delta*``) batch
    effects, shrunk towards their across-feature priors. ``transform`` standardises any rows
    with the training mean and variance, subtracts ``gamma*`` of the row's batch, divides by
    ``sqrt(delta*)`` and maps back to the original scale.

    The estimation follows ``inmoose.pycombat.pycombat_norm`` (``par_prior=True``,
    ``mean_only=False``, no reference batch, no covariates) step by step, including its
    convergence rule (relative change below ``conv``), so that ``fit(x, b).transform(x, b)``
    equals ``pycombat_norm(x.T, b).T``.

    Features that are constant within some training batch are left unadjusted (as R's
    ``sva::ComBat`` does); ``adjusted_`` marks the corrected ones.

    Parameters
    ----------
    conv : float, default=1e-4
        Convergence threshold of the iterative empirical-Bayes solution.
    max_iter : int, default=1_000_000
        Iteration cap of that solution (inmoose's ``exit_iteration``).
    name : str, default="data"
        Modality name used in error messages.

    Attributes
    ----------
    batches_ : ndarray of str, the training batch labels (sorted)
    adjusted_ : bool ndarray of shape (n_features,), features that are corrected
    grand_mean_, var_pooled_ : ndarray of shape (n_adjusted,)
    gamma_star_, delta_star_ : ndarray of shape (n_batches, n_adjusted)
    n_iter_ : ndarray of int, iterations used per batch
    """

    def __init__(self, *, conv: float = 1e-4, max_iter: int = 1_000_000, name: str = "data") -> None:
        self.conv, self.max_iter, self.name = conv, max_iter, name

    def fit(self, x: np.ndarray, batch: np.ndarray) -> ComBat:
        """Estimate the batch effects from training rows ``x`` (n_samples, n_features) with labels ``batch``."""
        x = np.asarray(x, dtype=np.float64)
        batch = np.asarray(batch).astype(str)
        if np.isnan(x).any():
            msg = f"ComBat cannot take missing values (modality '{self.name}'); set knn_impute to impute them first"
            raise InputError(msg)
        levels, codes, counts = np.unique(batch, return_inverse=True, return_counts=True)
        if len(levels) < 2:
            msg = f"ComBat needs at least 2 batches in the training rows of modality '{self.name}' (got {preview(levels)})"
            raise InputError(msg)
        if counts.min() < 2:
            small = levels[counts < 2]
            msg = f"ComBat needs at least 2 training samples per batch in modality '{self.name}'; batch {preview(small)} has 1"
            raise InputError(msg)
        rows = [np.flatnonzero(codes == i) for i in range(len(levels))]
        spread = np.stack([np.ptp(x[r], axis=0) for r in rows])
        adjusted = (spread > 0).all(axis=0)
        if adjusted.sum() < 2:
            msg = (
                f"ComBat needs at least 2 features that vary within every batch in modality '{self.name}' "
                f"(got {int(adjusted.sum())})"
            )
            raise InputError(msg)
        x = x[:, adjusted]
        n = x.shape[0]
        # location/scale model with a batch-only design (inmoose calculate_mean_var)
        batch_means = np.stack([x[r].mean(axis=0) for r in rows])
        grand_mean = (counts / n) @ batch_means
        var_pooled = ((x - batch_means[codes]) ** 2).mean(axis=0)
        s = (x - grand_mean) / np.sqrt(var_pooled)
        gamma_hat = np.stack([s[r].mean(axis=0) for r in rows])
        delta_hat = np.stack([s[r].var(axis=0) for r in rows])
        gamma_bar = gamma_hat.mean(axis=1)
        t2 = gamma_hat.var(axis=1)
        m, s2 = delta_hat.mean(axis=1), delta_hat.var(axis=1)
        a_prior = (2 * s2 + m * m) / s2
        b_prior = (m * s2 + m**3) / s2
        gamma_star = np.empty_like(gamma_hat)
        delta_star = np.empty_like(delta_hat)
        n_iter = np.zeros(len(levels), dtype=np.int64)
        for i, r in enumerate(rows):
            gamma_star[i], delta_star[i], n_iter[i] = self._solve(
                s[r], gamma_hat[i], delta_hat[i], gamma_bar[i], t2[i], a_prior[i], b_prior[i]
            )
        self.batches_ = levels
        self.adjusted_ = adjusted
        self.grand_mean_, self.var_pooled_ = grand_mean, var_pooled
        self.gamma_star_, self.delta_star_ = gamma_star, delta_star
        self.n_iter_ = n_iter
        return self

    def _solve(self, sdat, g_hat, d_hat, g_bar, t2, a, b) -> tuple[np.ndarray, np.ndarray, int]:
        """Iterative posterior means (inmoose ``it_sol`` / R ``it.sol``): ``sdat`` is (n_b, n_features)."""
        n = sdat.shape[0]
        t2_n = t2 * n
        t2_n_g_hat = t2_n * g_hat
        g_old, d_old = g_hat.copy(), d_hat.copy()
        g_new, d_new = g_old, d_old
        change, count = 1.0, 0
        with np.errstate(divide="ignore", invalid="ignore"):
            while change > self.conv and count < self.max_iter:
                g_new = (t2_n_g_hat + d_old * g_bar) / (t2_n + d_old)
                sum2 = ((sdat - g_new) ** 2).sum(axis=0)
                d_new = (0.5 * sum2 + b) / (0.5 * n + a - 1)
                # the reference's relative change divides by the signed old value
                change = max(np.amax(np.abs(g_new - g_old) / g_old), np.amax(np.abs(d_new - d_old) / d_old))
                g_old, d_old = g_new, d_new
                count += 1
        return g_new, d_new, count

    def transform(self, x: np.ndarray, batch: np.ndarray) -> np.ndarray:
        """Correct rows ``x`` (n_samples, n_features) of known batches with the training estimates."""
        if not hasattr(self, "batches_"):
            msg = "this ComBat is not fitted yet; call fit on training rows first"
            raise NotFittedError(msg)
        x = np.array(x, dtype=np.float64)
        batch = np.asarray(batch).astype(str)
        if x.shape[1] != self.adjusted_.size:
            msg = f"X has {x.shape[1]} features, but ComBat is expecting {self.adjusted_.size} features as input."
            raise ValueError(msg)
        unknown = np.setdiff1d(batch, self.batches_)
        if unknown.size:
            msg = (
                f"batch {preview(unknown)} of modality '{self.name}' never occurs in the training rows, so ComBat "
                f"has no estimate for it (training batches: {preview(self.batches_, 5)})"
            )
            raise InputError(msg)
        if x.shape[0] == 0:
            return x
        if np.isnan(x[:, self.adjusted_]).any():
            msg = f"ComBat cannot take missing values (modality '{self.name}'); set knn_impute to impute them first"
            raise InputError(msg)
        codes = np.searchsorted(self.batches_, batch)
        sd = np.sqrt(self.var_pooled_)
        s = (x[:, self.adjusted_] - self.grand_mean_) / sd
        s = (s - self.gamma_star_[codes]) / np.sqrt(self.delta_star_[codes])
        x[:, self.adjusted_] = s * sd + self.grand_mean_
        return x

    def subset(self, keep: np.ndarray) -> ComBat:
        """A copy restricted to the features at positions ``keep`` (for applying after selection)."""
        new = ComBat(conv=self.conv, max_iter=self.max_iter, name=self.name)
        position = np.cumsum(self.adjusted_) - 1
        kept_adjusted = keep[self.adjusted_[keep]]
        cols = position[kept_adjusted]
        new.batches_, new.adjusted_, new.n_iter_ = self.batches_, self.adjusted_[keep], self.n_iter_
        new.grand_mean_, new.var_pooled_ = self.grand_mean_[cols], self.var_pooled_[cols]
        new.gamma_star_, new.delta_star_ = self.gamma_star_[:, cols], self.delta_star_[:, cols]
        return new
