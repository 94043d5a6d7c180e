"""Association tests of each feature with a class label (Welch's t-test or one-way ANOVA), for feature selection."""

from __future__ import annotations

import numpy as np
from scipy import stats


def association_pvalues(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, str]:
    """P-values of each column of ``x`` against ``labels``, ignoring NaNs.

    Two classes: Welch's t-test (``scipy.stats.ttest_ind(..., equal_var=False)``, computed from
    per-class summaries with ``ttest_ind_from_stats``); more: one-way ANOVA (the F test of
    ``scipy.stats.f_oneway`` / ``sklearn.feature_selection.f_classif``). Features without a
    defined statistic (constant, or too few values) get NaN; features constant within every
    class but differing between classes get 0.

    Returns
    -------
    pvalues : ndarray of shape (n_features,)
    test : str, ``"Welch t-test"`` or ``"ANOVA"``
    """
    x = np.asarray(x, dtype=np.float64)
    classes, codes = np.unique(labels, return_inverse=True)
    mask = ~np.isnan(x)
    filled = np.where(mask, x, 0.0)
    n, mean, ss = [], [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(len(classes)):
            r = codes == i
            n_i = mask[r].sum(axis=0)
            mean_i = filled[r].sum(axis=0) / n_i
            ss_i = (np.where(mask[r], x[r] - mean_i, 0.0) ** 2).sum(axis=0)
            n.append(n_i)
            mean.append(mean_i)
            ss.append(ss_i)
        if len(classes) == 2:
            sd = [np.sqrt(ss[i] / (n[i] - 1)) for i in range(2)]
            pvalues = stats.ttest_ind_from_stats(mean[0], sd[0], n[0], mean[1], sd[1], n[1], equal_var=False).pvalue
            pvalues = np.where((n[0] < 2) | (n[1] < 2), np.nan, pvalues)
            return np.asarray(pvalues, dtype=np.float64), "Welch t-test"
        n_all = np.sum(n, axis=0)
        k = len(classes)
        grand = np.sum([n_i * m_i for n_i, m_i in zip(n, mean)], axis=0) / n_all
        between = np.sum([n_i * (m_i - grand) ** 2 for n_i, m_i in zip(n, mean)], axis=0) / (k - 1)
        within = np.sum(ss, axis=0) / (n_all - k)
        f = between / within
        empty = np.min(n, axis=0) < 1
        pvalues = np.where(empty | (n_all <= k), np.nan, stats.f.sf(f, k - 1, n_all - k))
    return pvalues, "ANOVA"
