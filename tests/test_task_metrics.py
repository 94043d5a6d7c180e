"""Regression and survival report metrics (point values against direct formulas and lifelines,
bootstrap intervals, undefined cases as None) and their two figures."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from deepgami.metrics import regression_metrics, survival_metrics
from deepgami.plotting import plot_kaplan_meier, plot_predicted_vs_observed

REGRESSION_KEYS = ("r2", "pearson", "spearman", "mae", "rmse")
SURVIVAL_KEYS = ("c_index", "c_index_uno", "integrated_brier_score")
PNG = b"\x89PNG\r\n\x1a\n"


def _exponential(n: int, rng: np.random.Generator, *, follow_up: float = np.inf):
    """Exponential survival with log-hazard ``x`` ~ N(0, 1), random censoring and an optional end of follow-up."""
    x = rng.normal(size=n)
    event_time = rng.exponential(1 / np.exp(x))
    censor_time = np.minimum(rng.exponential(2.0, size=n), follow_up)
    return np.minimum(event_time, censor_time), event_time <= censor_time, x


@pytest.fixture
def titles(monkeypatch):
    """Titles of the figures written (the files are still written)."""
    written = []
    savefig = Figure.savefig

    def record(fig, path, **kwargs):
        written.append(fig.axes[0].get_title())
        savefig(fig, path, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return written


def test_regression_perfect_prediction():
    y = np.linspace(-2, 5, 12)
    m = regression_metrics(y, y, n_boot=20)
    assert m["r2"] == 1.0 and m["mae"] == 0.0 and m["rmse"] == 0.0
    assert m["pearson"] == pytest.approx(1.0) and m["spearman"] == pytest.approx(1.0)
    assert m["n"] == 12


def test_regression_matches_direct_formulas():
    t = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 7.0])
    p = np.array([1.5, 1.8, 3.3, 3.1, 5.6, 6.0])
    m = regression_metrics(t, p, n_boot=0)
    ranks = lambda v: np.argsort(np.argsort(v))  # noqa: E731 - no ties here
    assert m["r2"] == pytest.approx(1 - np.sum((t - p) ** 2) / np.sum((t - t.mean()) ** 2))
    assert m["pearson"] == pytest.approx(np.corrcoef(t, p)[0, 1])
    assert m["spearman"] == pytest.approx(np.corrcoef(ranks(t), ranks(p))[0, 1])
    assert m["mae"] == pytest.approx(np.mean(np.abs(t - p)))
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((t - p) ** 2)))
    assert all(m[f"{k}_ci95"] is None for k in REGRESSION_KEYS)


def test_regression_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    rng = np.random.default_rng(1)
    t = rng.normal(size=80)
    p = t + rng.normal(scale=0.8, size=80)
    m = regression_metrics(t, p, n_boot=200, random_state=3)
    for key in REGRESSION_KEYS:
        low, high = m[f"{key}_ci95"]
        assert low < m[key] < high, key
    assert regression_metrics(t, p, n_boot=200, random_state=3) == m
    assert regression_metrics(t, p, n_boot=200, random_state=4)["r2_ci95"] != m["r2_ci95"]


def test_regression_undefined_values_are_none_without_warnings():
    # pytest turns warnings into errors: scipy's ConstantInputWarning must not escape.
    m = regression_metrics([1.0, 2.0, 4.0, 3.0], [2.0, 2.0, 2.0, 2.0], n_boot=30)
    assert m["pearson"] is None and m["spearman"] is None
    assert m["pearson_ci95"] is None and m["spearman_ci95"] is None
    assert m["r2"] == pytest.approx(1 - np.sum(np.square([-1, 0, 2, 1])) / 5.0)
    one = regression_metrics([1.0], [3.0], n_boot=10)
    assert one["r2"] is None and one["pearson"] is None and one["mae"] == 2.0 and one["n"] == 1


def test_harrell_c_is_one_for_a_risk_ordering_the_events_and_zero_reversed():
    time = np.arange(1.0, 21.0)
    event = np.arange(20) % 3 != 2  # every third sample censored
    ordered = survival_metrics(time, event, -time, train_time=time, train_event=event, n_boot=0)
    reversed_ = survival_metrics(time, event, time, train_time=time, train_event=event, n_boot=0)
    assert ordered["c_index"] == 1.0 and reversed_["c_index"] == 0.0
    assert ordered["c_index_uno"] == 1.0 and reversed_["c_index_uno"] == 0.0
    assert ordered["n"] == 20 and ordered["n_events"] == int(event.sum())


def test_harrell_c_matches_lifelines():
    lifelines_utils = pytest.importorskip("lifelines.utils")
    rng = np.random.default_rng(2)
    time, event, x = _exponential(150, rng)
    risk = x + rng.normal(size=150)
    m = survival_metrics(time, event, risk, train_time=time, train_event=event, n_boot=0)
    assert 0 < event.mean() < 1
    assert m["c_index"] == pytest.approx(lifelines_utils.concordance_index(time, -risk, event), abs=1e-9)


def test_survival_metrics_of_the_true_log_hazard():
    rng = np.random.default_rng(0)
    train_time, train_event, _ = _exponential(300, rng, follow_up=2.5)
    time, event, x = _exponential(200, rng)  # longer follow-up than training: Uno's tau and the Brier grid must cope
    assert time.max() > train_time.max()

    def survival(times):
        return np.exp(-np.exp(x)[:, None] * times[None, :])

    m = survival_metrics(time, event, x, train_time=train_time, train_event=train_event, survival=survival, n_boot=40)
    assert m["c_index"] > 0.65 and m["c_index_uno"] > 0.65
    assert 0 < m["integrated_brier_score"] < 0.25
    for key in SURVIVAL_KEYS:
        assert isinstance(m[key], float) and 0 <= m[key] <= 1, key
        low, high = m[f"{key}_ci95"]
        assert low <= m[key] <= high, key
    assert m["n"] == 200 and m["n_events"] == int(event.sum())

    without = survival_metrics(time, event, x, train_time=train_time, train_event=train_event, n_boot=0)
    assert without["integrated_brier_score"] is None and without["c_index"] == m["c_index"]
    with pytest.raises(ValueError, match="shape"):
        survival_metrics(time, event, x, train_time=train_time, train_event=train_event, survival=lambda t: np.ones((3, len(t))))
    # Curves that overflowed give no Brier score (not a crash, not a wrong number); C is unaffected.
    overflowed = survival_metrics(
        time, event, x, train_time=train_time, train_event=train_event, survival=lambda t: np.full((len(x), len(t)), np.inf), n_boot=0
    )
    assert overflowed["integrated_brier_score"] is None and overflowed["c_index"] == m["c_index"]


def test_survival_metrics_without_test_events_are_none():
    rng = np.random.default_rng(3)
    train_time, train_event, _ = _exponential(50, rng)
    time = rng.uniform(0.1, 1.0, size=10)
    m = survival_metrics(
        time, np.zeros(10, dtype=bool), rng.normal(size=10), train_time=train_time, train_event=train_event,
        survival=lambda t: np.full((10, len(t)), 0.5), n_boot=20,
    )  # fmt: skip
    assert all(m[key] is None and m[f"{key}_ci95"] is None for key in SURVIVAL_KEYS)
    assert m["n"] == 10 and m["n_events"] == 0


def test_predicted_vs_observed_plot(tmp_path, titles):
    rng = np.random.default_rng(4)
    observed = rng.normal(size=60)
    path = plot_predicted_vs_observed(observed, observed + rng.normal(scale=0.5, size=60), tmp_path / "pvo.png", title="gene A")
    assert path.read_bytes().startswith(PNG) and titles == ["gene A"]
    # Constant predictions: Pearson's r is undefined, the plot is still written (no warning).
    assert plot_predicted_vs_observed(observed, np.zeros(60), tmp_path / "flat.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("groups", "risk_kind", "expected"),
    [(2, "continuous", "log-rank p = "), (3, "continuous", "log-rank p = "), (3, "two values", "log-rank p = "), (2, "tied", "one risk group")],
)
def test_kaplan_meier_plot(groups, risk_kind, expected, tmp_path, titles):
    rng = np.random.default_rng(5)
    time, event, x = _exponential(90, rng)
    risk = {"continuous": x, "two values": (x > 1).astype(float), "tied": np.zeros(90)}[risk_kind]
    path = plot_kaplan_meier(time, event, risk, tmp_path / "km.png", groups=groups)
    assert path.read_bytes().startswith(PNG)
    assert expected in titles[0]
