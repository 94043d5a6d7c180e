"""Simulated genotype + TF-expression cohorts with a planted regulatory graph.

Genotypes come in LD blocks (0/1/2 dosages), TF expression from a few shared factors; an
unobserved gene layer is driven by planted eQTL and GRN effects, and the phenotype by a few
causal genes. The prior graph holds every planted edge plus null edges, as real eQTL and GRN
tables do. The same planted liability yields a categorical (binary by default), continuous
or right-censored survival phenotype. Used for the embedded demo and for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.stats import norm

GENE_ACTIVATIONS = ("linear", "relu")

# Phenotype kinds and the task line each adds under [data] of the written config.toml
# (none for the categorical phenotype, whose config predates tasks).
PHENOTYPES = {"binary": None, "continuous": "regression", "survival": "survival"}

# Weibull baseline of the survival phenotype: cumulative hazard (t / scale) ** shape.
WEIBULL_SHAPE = 1.5
WEIBULL_SCALE = 10.0

# Share of liability variance explained by the causal genes, by difficulty.
DIFFICULTY = {"easy": 0.97, "medium": 0.9, "hard": 0.7}


@dataclass
class SimulatedCohort:
    """A simulated cohort.

    Attributes
    ----------
    snp : DataFrame of shape (n_samples, n_snps), dosages 0/1/2
    tf : DataFrame of shape (n_samples, n_tfs), TF expression
    labels : Series or DataFrame indexed by sample, as ``labels.csv`` holds it
        ``phenotype="binary"``: Series of class names; ``"continuous"``: Series of floats;
        ``"survival"``: DataFrame with columns ``time`` (float > 0) and ``event`` (int, 1 =
        observed, 0 = censored).
    eqtl, grn : DataFrame with columns source, target (prior edges, planted and null)
    genes : DataFrame of shape (n_samples, n_genes), the unobserved gene layer
    truth : dict with ``causal_genes`` (list), ``edges`` (DataFrame: relation, source, target,
        effect; every planted edge), ``gene_weights`` (Series over causal genes),
        ``gene_activation`` (str), ``heritability`` (float) and ``signal`` (Series over samples:
        the standardised noise-free liability the causal genes produce). All of it is the
        same for every phenotype kind of one seed.
    phenotype : {"binary", "continuous", "survival"}
        The kind of ``labels``; ``binary`` also covers ``n_classes > 2`` class labels.
    """

    snp: pd.DataFrame
    tf: pd.DataFrame
    labels: pd.Series | pd.DataFrame
    eqtl: pd.DataFrame
    grn: pd.DataFrame
    genes: pd.DataFrame
    truth: dict = field(default_factory=dict)
    phenotype: str = "binary"

    @property
    def modalities(self) -> dict[str, pd.DataFrame]:
        return {"snp": self.snp, "tf": self.tf}

    @property
    def task(self) -> str | None:
        """The ``task`` of the written config: ``regression``, ``survival``, or None (classification)."""
        return PHENOTYPES[self.phenotype]

    def write(self, folder: str | Path) -> Path:
        """Write CSV tables and a ``config.toml`` that ``deepgami fit`` reads; return the config path.

        ``labels.csv`` holds ``sample,label`` (class names or floats) or, for a survival
        phenotype, ``sample,time,event``; the config names the task under ``[data]`` for a
        continuous (``task = "regression"``) or survival (``task = "survival"``) phenotype.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.snp.to_csv(folder / "snp.csv", index_label="sample", float_format="%g")
        self.tf.to_csv(folder / "tf.csv", index_label="sample", float_format="%.9g")
        if isinstance(self.labels, pd.DataFrame):
            self.labels[["time", "event"]].to_csv(folder / "labels.csv", index_label="sample")
        else:
            self.labels.rename("label").to_csv(folder / "labels.csv", index_label="sample")
        self.eqtl.to_csv(folder / "eqtl.csv", index=False)
        self.grn.to_csv(folder / "grn.csv", index=False)
        self.truth["edges"].to_csv(folder / "truth_edges.csv", index=False)
        config = folder / "config.toml"
        text = CONFIG_TEMPLATE
        if self.task is not None:
            text = text.replace('labels = "labels.csv"\n', f'labels = "labels.csv"\ntask = "{self.task}"\n', 1)
        config.write_text(text)
        return config


CONFIG_TEMPLATE = """\
# Simulated cohort written by deepgami.simulate: genotypes and TF expression, with the
# eQTL (SNP -> gene) and GRN (TF -> gene) prior graph. Paths are relative to this file.
[data]
labels = "labels.csv"

[data.modalities.snp]
path = "snp.csv"

[data.modalities.tf]
path = "tf.csv"

[[graph.edges]]
path = "eqtl.csv"
source = "snp"
target = "gene"
relation = "eqtl"

[[graph.edges]]
path = "grn.csv"
source = "tf"
target = "gene"
relation = "regulates"

[split]
test_fraction = 0.2
seed = 0
"""


def simulate_cohort(
    n_samples: int = 600,
    n_snps: int = 3000,
    n_tfs: int = 150,
    n_genes: int = 500,
    *,
    n_classes: int = 2,
    n_causal_genes: int | None = None,
    snps_per_block: int = 20,
    ld: float = 0.9,
    snp_share: float = 0.55,
    tf_share: float = 0.35,
    difficulty: str | float = "medium",
    gene_activation: str = "linear",
    causal_eqtls: int | None = None,
    causal_regulators: int = 2,
    activation_threshold: float = 1.0,
    tf_hubs: bool = False,
    ld_decoys: int = 0,
    phenotype: str = "binary",
    log_hazard_ratio: float = 1.0,
    censoring: float = 0.3,
    seed: int = 0,
) -> SimulatedCohort:
    """Simulate a cohort.

    Parameters
    ----------
    n_samples, n_snps, n_tfs, n_genes : int
    n_classes : int
        Classes cut at liability quantiles (balanced); only for ``phenotype="binary"``.
    n_causal_genes : int, optional
        Genes whose (unobserved) expression drives the phenotype (default: 8 % of the genes).
    snps_per_block : int
        LD block length; within a block adjacent SNPs' haplotype liabilities correlate ``ld``.
    snp_share, tf_share : float
        Variance shares of each gene explained by its planted eQTLs and by its planted
        regulators; the rest is noise.
    difficulty : {"easy", "medium", "hard"} or float
        Share of the phenotype liability explained by the causal genes (its heritability):
        the liability is ``sqrt(h) * signal + sqrt(1 - h) * noise`` with a standardised
        ``signal`` from the causal genes and standard normal ``noise``.
    gene_activation : {"linear", "relu"}
        How a gene's planted inputs combine. ``linear``: its genetic component is the sum of
        its causal eQTL effects and its regulatory component the sum of its regulators'
        effects, so the phenotype is additive in SNPs and TFs and any wiring that reaches the
        causal inputs can represent it. ``relu``: each component is a cooperative switch,
        ``max(z - activation_threshold, 0)`` of the standardised input sum ``z``; the gene
        only responds when several of its inputs push together, which an additive model of
        the inputs captures only in part and which a latent node fed by exactly the gene's
        inputs (the planted graph) represents exactly. A switch whose input never crosses the
        threshold stays off (about 2 % of genes' SNP side with 3 causal eQTLs).
    causal_eqtls : int, optional
        Causal eQTLs per gene (default: 1, or 2 with probability 0.3).
    causal_regulators : int
        Causal regulators (TFs) per gene.
    activation_threshold : float
        Threshold of the ``relu`` activation, in standard deviations of the input sum.
    tf_hubs : bool
        Draw each gene's listed regulators with Zipf probabilities (``1 / rank``) over a random
        order of the TFs, so a few TFs regulate many genes, as in real regulatory networks;
        otherwise uniformly.
    ld_decoys : int
        List up to this many SNPs on each side of every causal eQTL (its LD block neighbours,
        correlated about ``ld ** distance``) as further, null eQTLs of the same gene.
    phenotype : {"binary", "continuous", "survival"}
        What the liability becomes. ``binary``: ``n_classes`` classes cut at its quantiles.
        ``continuous``: the liability itself, a float of variance about 1 of which the share
        ``h`` is signal, for a regression. ``survival``: right-censored event times from a
        proportional-hazards model with log-hazard ``log_hazard_ratio`` times the standardised
        liability and a Weibull baseline (shape 1.5, scale 10), and independent exponential
        censoring; ``labels`` is then a DataFrame with ``time`` and ``event`` (1 = observed).
        Every kind draws the same inputs, gene layer, truth and liability for one seed; the
        survival draws come after all of them, so the binary output is unchanged.
    log_hazard_ratio : float
        Log hazard ratio per standard deviation of the liability (``phenotype="survival"``).
    censoring : float
        Expected share of censored samples, in [0, 1) (``phenotype="survival"``): the
        censoring rate is set so that the cohort's event times are censored with this mean
        probability.
    seed : int

    ``difficulty = 0`` gives a null cohort: labels (classes, values or event times)
    independent of every input.
    """
    if phenotype not in PHENOTYPES:
        msg = f"phenotype must be one of {tuple(PHENOTYPES)} (got {phenotype!r})"
        raise ValueError(msg)
    if not 0 <= censoring < 1:
        msg = f"censoring must lie in [0, 1) (got {censoring})"
        raise ValueError(msg)
    if not np.isfinite(log_hazard_ratio):
        msg = f"log_hazard_ratio must be finite (got {log_hazard_ratio})"
        raise ValueError(msg)
    if n_causal_genes is None:
        n_causal_genes = max(1, round(0.08 * n_genes))
    if not 0 < n_causal_genes <= n_genes:
        msg = f"n_causal_genes must lie in 1..n_genes={n_genes} (got {n_causal_genes})"
        raise ValueError(msg)
    if gene_activation not in GENE_ACTIVATIONS:
        msg = f"gene_activation must be one of {GENE_ACTIVATIONS} (got {gene_activation!r})"
        raise ValueError(msg)
    if causal_eqtls is not None and causal_eqtls < 1 or causal_regulators < 1:
        msg = "causal_eqtls and causal_regulators must be at least 1"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    heritability = DIFFICULTY[difficulty] if isinstance(difficulty, str) else float(difficulty)
    samples = [f"S{i:04d}" for i in range(n_samples)]
    snp_ids = [f"rs{100000 + i}" for i in range(n_snps)]
    tf_ids = [f"TF{i:03d}" for i in range(n_tfs)]
    gene_ids = [f"G{i:04d}" for i in range(n_genes)]

    dosage = _ld_genotypes(rng, n_samples, n_snps, snps_per_block, ld)
    std_dosage = (dosage - dosage.mean(0)) / np.maximum(dosage.std(0), 1e-6)

    factors = rng.normal(size=(n_samples, 5))
    tf_expr = factors @ rng.normal(scale=0.6, size=(5, n_tfs)) + rng.normal(size=(n_samples, n_tfs))
    tf_expr = (tf_expr - tf_expr.mean(0)) / tf_expr.std(0)

    tf_weights = None
    if tf_hubs:
        tf_weights = np.empty(n_tfs)
        tf_weights[rng.permutation(n_tfs)] = 1.0 / np.arange(1, n_tfs + 1)
        tf_weights /= tf_weights.sum()
    eqtl_rows, grn_rows, planted = [], [], []
    genetic = np.zeros((n_samples, n_genes))
    regulatory = np.zeros((n_samples, n_genes))
    window = max(2 * snps_per_block, 4)
    for j in range(n_genes):
        centre = int((j + 0.5) * n_snps / n_genes)
        cis = np.arange(max(0, centre - window // 2), min(n_snps, centre + window // 2))
        listed = 2 + rng.poisson(3)
        if causal_eqtls is not None:
            listed = max(listed, causal_eqtls)
        snps = rng.choice(cis, size=min(len(cis), listed), replace=False)
        causal_snps = snps[: 1 + int(rng.random() < 0.3)] if causal_eqtls is None else snps[:causal_eqtls]
        effects = rng.choice([-1, 1], size=len(causal_snps)) * rng.uniform(0.5, 1.0, size=len(causal_snps))
        genetic[:, j] = _activate(std_dosage[:, causal_snps] @ effects, gene_activation, activation_threshold)
        decoys = [
            s + step * side
            for s in causal_snps
            for side in (-1, 1)
            for step in range(1, ld_decoys + 1)
            if 0 <= s + step * side < n_snps and (s + step * side) // snps_per_block == s // snps_per_block
        ]
        snps = np.concatenate([snps, [d for d in dict.fromkeys(decoys) if d not in snps]]).astype(int)
        eqtl_rows += [(snp_ids[s], gene_ids[j]) for s in snps]
        planted += [("eqtl", snp_ids[s], gene_ids[j], e) for s, e in zip(causal_snps, effects)]

        tfs = rng.choice(n_tfs, size=min(n_tfs, max(3 + rng.poisson(4), causal_regulators)), replace=False, p=tf_weights)
        causal_tfs = tfs[:causal_regulators]
        effects = rng.choice([-1, 1], size=len(causal_tfs)) * rng.uniform(0.5, 1.0, size=len(causal_tfs))
        regulatory[:, j] = _activate(tf_expr[:, causal_tfs] @ effects, gene_activation, activation_threshold)
        grn_rows += [(tf_ids[t], gene_ids[j]) for t in tfs]
        planted += [("regulates", tf_ids[t], gene_ids[j], e) for t, e in zip(causal_tfs, effects)]

    noise_share = max(1.0 - snp_share - tf_share, 0.0)
    genes = (
        np.sqrt(snp_share) * _standardise(genetic)
        + np.sqrt(tf_share) * _standardise(regulatory)
        + np.sqrt(noise_share) * rng.normal(size=(n_samples, n_genes))
    )

    causal = rng.choice(n_genes, size=n_causal_genes, replace=False)
    weights = rng.choice([-1, 1], size=n_causal_genes) * rng.uniform(0.5, 1.0, size=n_causal_genes)
    # A mildly non-linear phenotype: half the causal genes act through a rectifier.
    drive = genes[:, causal].copy()
    drive[:, ::2] = np.maximum(drive[:, ::2], 0.0) * 2.0
    signal = _standardise(drive @ weights)
    liability = np.sqrt(heritability) * signal + np.sqrt(1 - heritability) * rng.normal(size=n_samples)
    if phenotype == "binary":
        cuts = np.quantile(liability, np.linspace(0, 1, n_classes + 1)[1:-1])
        codes = np.searchsorted(cuts, liability)
        names = ["control", "case"] if n_classes == 2 else [f"class_{k}" for k in range(n_classes)]
        labels = pd.Series(np.asarray(names)[codes], index=samples, name="label")
    elif phenotype == "continuous":
        labels = pd.Series(liability, index=samples, name="label")
    else:
        time, event = _survival_times(rng, log_hazard_ratio * _standardise(liability), censoring)
        labels = pd.DataFrame({"time": time, "event": event}, index=samples)

    truth_edges = pd.DataFrame(planted, columns=["relation", "source", "target", "effect"])
    causal_names = [gene_ids[j] for j in causal]
    truth = {
        "causal_genes": causal_names,
        "gene_weights": pd.Series(weights, index=causal_names),
        "edges": truth_edges,
        "gene_activation": gene_activation,
        "heritability": heritability,
        "signal": pd.Series(signal, index=samples, name="signal"),
    }
    return SimulatedCohort(
        snp=pd.DataFrame(dosage, index=samples, columns=snp_ids),
        tf=pd.DataFrame(tf_expr.astype(np.float32), index=samples, columns=tf_ids),
        labels=labels,
        eqtl=pd.DataFrame(eqtl_rows, columns=["source", "target"]).drop_duplicates(ignore_index=True),
        grn=pd.DataFrame(grn_rows, columns=["source", "target"]).drop_duplicates(ignore_index=True),
        genes=pd.DataFrame(genes.astype(np.float32), index=samples, columns=gene_ids),
        truth=truth,
        phenotype=phenotype,
    )


def _survival_times(rng: np.random.Generator, log_hazard: np.ndarray, censoring: float) -> tuple[np.ndarray, np.ndarray]:
    """Observed times (n,) and event indicators (n,) of a Weibull proportional-hazards model.

    Event times solve ``(T / scale) ** shape * exp(log_hazard) = E`` for standard exponential
    ``E``; censoring times are exponential with the rate at which the mean probability of
    censoring these event times, ``mean(1 - exp(-rate * T))``, equals ``censoring``. Both sets
    of exponentials are drawn whatever ``censoring`` is, so it changes only the censoring.
    """
    events = WEIBULL_SCALE * (rng.standard_exponential(len(log_hazard)) * np.exp(-log_hazard)) ** (1 / WEIBULL_SHAPE)
    events = np.maximum(events, 1e-9)
    unit = rng.standard_exponential(len(log_hazard))
    if censoring == 0:
        return events, np.ones(len(events), dtype=int)

    def excess(log_rate: float) -> float:
        return float(np.mean(-np.expm1(-np.exp(log_rate) * events))) - censoring

    # rate * max(events) = 1e-3 * censoring censors at most that share; rate * min(events) = 50 all but none.
    low, high = np.log(1e-3 * censoring / events.max()), np.log(50 / events.min())
    rate = np.exp(brentq(excess, low, high, xtol=1e-12))
    censored_at = np.maximum(unit / rate, 1e-9)
    return np.minimum(events, censored_at), (events <= censored_at).astype(int)


def _ld_genotypes(rng: np.random.Generator, n_samples: int, n_snps: int, block: int, ld: float) -> np.ndarray:
    """Dosages (n_samples, n_snps) from two haplotypes with AR(1)-correlated liabilities per block."""
    maf = rng.uniform(0.05, 0.5, size=n_snps)
    threshold = norm.ppf(maf)
    dosage = np.zeros((n_samples, n_snps), dtype=np.float32)
    n_blocks = -(-n_snps // block)
    for _ in range(2):
        z = np.empty((n_samples, n_blocks, block))
        z[:, :, 0] = rng.normal(size=(n_samples, n_blocks))
        for i in range(1, block):
            z[:, :, i] = ld * z[:, :, i - 1] + np.sqrt(1 - ld**2) * rng.normal(size=(n_samples, n_blocks))
        dosage += z.reshape(n_samples, -1)[:, :n_snps] < threshold
    return dosage


def _activate(drive: np.ndarray, activation: str, threshold: float) -> np.ndarray:
    """A gene component from the summed effects of its causal inputs."""
    if activation == "linear":
        return drive
    return np.maximum(_standardise(drive) - threshold, 0.0)


def _standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(0)) / np.maximum(values.std(0), 1e-9)


def panel_settings(n_cohorts: int = 20, n_null: int = 4, seed: int = 0, phenotype: str = "binary") -> list[dict]:
    """``simulate_cohort`` keyword arguments for a panel spanning what real cohorts do.

    Each planted cohort draws its sample size (500, 1,000 or 2,000), causal gene count (5 to
    50), phenotype heritability (0.5 to 0.95, weak to strong), the SNP and TF variance shares
    of the genes, a linear or a cooperative (``relu``) gene layer, hub TFs or not, and LD
    decoy eQTLs or not; sizes are fixed at 3,000 SNPs, 150 TFs and 600 genes. ``n_null`` more
    cohorts have labels independent of the data (``difficulty = 0``). Cohort seeds are
    ``seed * 1000 + i``. Another ``phenotype`` than ``binary`` is added to every cohort's
    settings; the panel is otherwise the same, so one panel can be fitted per task.
    """
    if phenotype not in PHENOTYPES:
        msg = f"phenotype must be one of {tuple(PHENOTYPES)} (got {phenotype!r})"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    panel = []
    for i in range(n_cohorts + n_null):
        snp_share = float(rng.uniform(0.3, 0.8))
        settings = {
            "n_samples": int(rng.choice([500, 1000, 2000])),
            "n_snps": 3000,
            "n_tfs": 150,
            "n_genes": 600,
            "n_causal_genes": int(rng.choice([5, 10, 20, 50])),
            "difficulty": round(float(rng.uniform(0.5, 0.95)), 3) if i < n_cohorts else 0.0,
            "snp_share": round(snp_share, 3),
            "tf_share": round(float(rng.uniform(0.1, 0.9 - snp_share)), 3),
            "tf_hubs": bool(rng.random() < 0.5),
            "ld_decoys": int(rng.choice([0, 2])),
            "seed": seed * 1000 + i,
        }
        if rng.random() < 0.5:
            settings |= {"gene_activation": "relu", "causal_eqtls": 3, "causal_regulators": 3}
        if phenotype != "binary":
            settings["phenotype"] = phenotype
        panel.append(settings)
    return panel
