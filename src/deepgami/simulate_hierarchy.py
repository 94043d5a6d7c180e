"""Simulated genotype cohorts with a planted deep hierarchy: SNP -> TF -> gene -> pathway -> parent pathway.

Genotypes are the only measured modality (the GenNet / G2PT setting); TFs, genes and pathways
are latent. A few leaf pathways are causal: some of their member genes carry the phenotype, each
through planted cis eQTLs (SNP -> gene) and planted regulators (TF -> gene) that have planted
eQTLs of their own (SNP -> TF). Pathway activity rises through the planted ancestors to the
roots, whose sum is the genetic liability. The prior tables hold every planted edge plus null
edges, as real eQTL, GRN and Reactome tables do. Genotypes, heritability, labels and phenotype
kinds follow :mod:`deepgami.simulate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from ._typing import EdgeType
from .graph import relation_name
from .simulate import DIFFICULTY, GENE_ACTIVATIONS, PHENOTYPES, _activate, _ld_genotypes, _standardise, _survival_times

SNP_TF: EdgeType = ("snp", "eqtl", "tf")
SNP_GENE: EdgeType = ("snp", "eqtl", "gene")
TF_GENE: EdgeType = ("tf", "regulates", "gene")
GENE_PATHWAY: EdgeType = ("gene", "member_of", "pathway")
PATHWAY_PARENT: EdgeType = ("pathway", "parent", "pathway")

# The prior's relations, in the order edge_tables() and config.toml list them, and their files.
RELATION_FILES: dict[EdgeType, str] = {
    SNP_TF: "snp_tf.csv",
    SNP_GENE: "snp_gene.csv",
    TF_GENE: "tf_gene.csv",
    GENE_PATHWAY: "gene_pathway.csv",
    PATHWAY_PARENT: "pathway_parent.csv",
}


@dataclass
class HierarchicalCohort:
    """A simulated genotype cohort with a planted SNP -> TF -> gene -> pathway hierarchy.

    Attributes
    ----------
    snp : DataFrame of shape (n_samples, n_snps), dosages 0/1/2
    labels : Series or DataFrame indexed by sample, as in :class:`deepgami.simulate.SimulatedCohort`
        Class names ``control``/``case``, floats, or ``time`` and ``event`` columns.
    prior : dict of edge type -> DataFrame with columns source, target
        The prior tables (planted and null edges), keyed ``(source type, relation, target type)``
        in :data:`RELATION_FILES` order; ``pathway-parent->pathway`` only when ``depth > 1``.
    activity : dict of node type -> DataFrame of shape (n_samples, n planted nodes)
        The latent activity of the planted ``tf``, ``gene`` and ``pathway`` nodes (every level).
    truth : dict
        ``causal_pathways`` (list, the planted leaves), ``causal_pathway_ancestors`` (dict level
        -> list, levels 2..depth), ``pathway_level`` (Series pathway -> level, 1 = leaf),
        ``causal_genes``, ``causal_tfs``, ``causal_snps`` (lists), ``chains`` (DataFrame snp,
        tf, gene, pathway; tf None for a direct SNP -> gene chain), ``edges`` (DataFrame
        relation, source, target, effect: every planted edge, relation as ``"snp-eqtl->tf"``),
        ``signal`` (Series over samples: the standardised genetic liability) and
        ``heritability`` (float).
    phenotype : {"binary", "continuous", "survival"}
    """

    snp: pd.DataFrame
    labels: pd.Series | pd.DataFrame
    prior: dict[EdgeType, pd.DataFrame]
    activity: dict[str, pd.DataFrame]
    truth: dict = field(default_factory=dict)
    phenotype: str = "binary"

    @property
    def modalities(self) -> dict[str, pd.DataFrame]:
        return {"snp": self.snp}

    @property
    def task(self) -> str | None:
        """The ``task`` of the written config: ``regression``, ``survival``, or None (classification)."""
        return PHENOTYPES[self.phenotype]

    def edge_tables(self) -> list[tuple[pd.DataFrame, str, str, str]]:
        """``(table, source type, target type, relation)`` per relation, for :meth:`RegulatoryGraph.from_edge_tables`."""
        return [(frame, src_type, dst_type, relation) for (src_type, relation, dst_type), frame in self.prior.items()]

    def write(self, folder: str | Path) -> Path:
        """Write the CSV tables and a ``config.toml``; return the config path.

        Files: ``snp.csv``, ``labels.csv`` (as :meth:`SimulatedCohort.write <deepgami.simulate.SimulatedCohort.write>`),
        one table per prior relation (:data:`RELATION_FILES`), ``truth_edges.csv`` and
        ``truth_pathways.csv`` (pathway, level: the planted leaves and their ancestors).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.snp.to_csv(folder / "snp.csv", index_label="sample", float_format="%g")
        if isinstance(self.labels, pd.DataFrame):
            self.labels[["time", "event"]].to_csv(folder / "labels.csv", index_label="sample")
        else:
            self.labels.rename("label").to_csv(folder / "labels.csv", index_label="sample")
        for edge_type, frame in self.prior.items():
            frame.to_csv(folder / RELATION_FILES[edge_type], index=False)
        self.truth["edges"].to_csv(folder / "truth_edges.csv", index=False)
        planted = self.truth["causal_pathways"] + [p for names in self.truth["causal_pathway_ancestors"].values() for p in names]
        pathways = pd.DataFrame({"pathway": planted, "level": self.truth["pathway_level"].loc[planted].to_numpy()})
        pathways.to_csv(folder / "truth_pathways.csv", index=False)
        config = folder / "config.toml"
        config.write_text(self._config_text())
        return config

    def _config_text(self) -> str:
        lines = [
            "# Simulated cohort written by deepgami.simulate_hierarchy: genotypes and the deep prior",
            "# SNP -> TF -> gene -> pathway -> parent pathway. Paths are relative to this file.",
            "[data]",
            'labels = "labels.csv"',
        ]
        if self.task is not None:
            lines.append(f'task = "{self.task}"')
        lines += ["", "[data.modalities.snp]", 'path = "snp.csv"']
        for src_type, relation, dst_type in self.prior:
            path = RELATION_FILES[(src_type, relation, dst_type)]
            lines += ["", "[[graph.edges]]", f'path = "{path}"', f'source = "{src_type}"', f'target = "{dst_type}"', f'relation = "{relation}"']
        lines += ["", "[split]", "test_fraction = 0.2", "seed = 0"]
        return "\n".join(lines) + "\n"


def simulate_hierarchy_cohort(
    n_samples: int = 800,
    n_snps: int = 2000,
    n_tfs: int = 60,
    n_genes: int = 400,
    n_pathways: int = 60,
    *,
    depth: int = 3,
    n_roots: int = 4,
    n_causal_pathways: int = 2,
    genes_per_pathway: float = 12.0,
    causal_gene_share: float = 0.5,
    second_parent: float = 0.15,
    n_causal_tfs: int = 6,
    regulators_per_gene: int = 2,
    listed_eqtls: float = 5.0,
    listed_regulators: float = 5.0,
    snps_per_block: int = 20,
    ld: float = 0.9,
    tf_snp_share: float = 0.7,
    snp_share: float = 0.4,
    tf_share: float = 0.4,
    pathway_activation: str = "linear",
    difficulty: str | float = "medium",
    phenotype: str = "binary",
    log_hazard_ratio: float = 1.0,
    censoring: float = 0.3,
    seed: int = 0,
) -> HierarchicalCohort:
    """Simulate a genotype cohort whose phenotype runs through a planted pathway hierarchy.

    Parameters
    ----------
    n_samples, n_snps, n_tfs, n_genes : int
    n_pathways : int
        Pathways over all levels.
    depth : int
        Levels of the pathway hierarchy: level 1 holds the genes (leaves), level ``depth`` the
        roots; every non-root pathway has a parent one level up, so the hierarchy is acyclic.
    n_roots : int
        Pathways at the top level (``depth > 1``); the level sizes grow geometrically from
        them down to the leaves, which take the rest. Needs ``n_pathways >= n_roots * depth``.
    n_causal_pathways : int
        Leaf pathways planted as causal.
    genes_per_pathway : float
        Mean members of a leaf pathway (Poisson, at least 3); genes join several pathways or none.
    causal_gene_share : float
        Share of a causal pathway's members that drive it (at least one); the rest are null members.
    second_parent : float
        Probability that a non-root pathway has a second parent.
    n_causal_tfs : int
        The TFs the causal genes' planted regulators are drawn from, so a planted TF often
        regulates several causal genes.
    regulators_per_gene : int
        Planted regulators (TF -> gene) per causal gene.
    listed_eqtls : float
        Mean cis eQTLs the prior lists per gene and per TF (at least 2); the planted ones, 1 or
        (probability 0.3) 2 per causal node, are among them.
    listed_regulators : float
        Mean regulators the prior lists per gene (at least ``regulators_per_gene``).
    snps_per_block, ld : int, float
        LD blocks of the genotypes, as in :func:`deepgami.simulate.simulate_cohort`.
    tf_snp_share : float
        Variance share of a planted TF's activity explained by its planted eQTLs; the rest is noise.
    snp_share, tf_share : float
        Variance shares of a causal gene's activity explained by its planted eQTLs and by its
        planted regulators' activity; the rest is noise.
    pathway_activation : {"linear", "relu"}
        How a planted pathway combines its planted inputs (member genes, or child pathways):
        ``linear`` passes the standardised signed sum on, ``relu`` rectifies it at its mean, so
        the liability is no longer additive in the genes.
    difficulty : {"easy", "medium", "hard"} or float
        Heritability ``h``: the liability is ``sqrt(h) * signal + sqrt(1 - h) * noise`` with the
        standardised ``signal`` the sum of the planted roots' activities.
    phenotype : {"binary", "continuous", "survival"}
        ``binary``: ``control``/``case`` cut at the liability's median; ``continuous``: the
        liability; ``survival``: Weibull proportional-hazards times with log-hazard
        ``log_hazard_ratio`` times the standardised liability and a ``censoring`` share censored,
        as in :func:`deepgami.simulate.simulate_cohort`.
    log_hazard_ratio, censoring : float
    seed : int

    Returns
    -------
    HierarchicalCohort
    """
    if phenotype not in PHENOTYPES:
        msg = f"phenotype must be one of {tuple(PHENOTYPES)} (got {phenotype!r})"
        raise ValueError(msg)
    if pathway_activation not in GENE_ACTIVATIONS:
        msg = f"pathway_activation must be one of {GENE_ACTIVATIONS} (got {pathway_activation!r})"
        raise ValueError(msg)
    if depth < 1 or depth > 1 and not 1 <= n_roots * depth <= n_pathways:
        msg = f"need depth >= 1 and, for depth > 1, 1 <= n_roots <= n_pathways / depth (got {depth=}, {n_roots=}, {n_pathways=})"
        raise ValueError(msg)
    if not 1 <= regulators_per_gene <= n_causal_tfs <= n_tfs:
        msg = f"need 1 <= regulators_per_gene <= n_causal_tfs <= n_tfs (got {regulators_per_gene}, {n_causal_tfs}, {n_tfs})"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    heritability = DIFFICULTY[difficulty] if isinstance(difficulty, str) else float(difficulty)
    samples = [f"S{i:04d}" for i in range(n_samples)]
    snp_ids = np.asarray([f"rs{100000 + i}" for i in range(n_snps)], dtype=object)
    tf_ids = np.asarray([f"TF{i:03d}" for i in range(n_tfs)], dtype=object)
    gene_ids = np.asarray([f"G{i:04d}" for i in range(n_genes)], dtype=object)

    dosage = _ld_genotypes(rng, n_samples, n_snps, snps_per_block, ld)
    std_dosage = _standardise(dosage.astype(np.float64))

    # The pathway hierarchy: names per level (leaves first), child -> parents, leaf members.
    sizes = _level_sizes(n_pathways, depth, n_roots)
    if not 1 <= n_causal_pathways <= sizes[0]:
        msg = f"n_causal_pathways must lie in 1..{sizes[0]}, the leaf pathways (got {n_causal_pathways})"
        raise ValueError(msg)
    levels = [[f"PW{level}_{i:03d}" for i in range(size)] for level, size in enumerate(sizes, start=1)]
    parents_of: dict[str, list[str]] = {}
    for children, parents in zip(levels, levels[1:]):
        for child, parent in _assign_parents(rng, len(children), len(parents), second_parent):
            parents_of.setdefault(children[child], []).append(parents[parent])
    members = [rng.choice(n_genes, size=min(n_genes, max(3, rng.poisson(genes_per_pathway))), replace=False) for _ in levels[0]]

    # Causal leaves and their driving genes (a random subset: the member draws are in random order).
    causal_leaves = sorted(rng.choice(len(levels[0]), size=n_causal_pathways, replace=False))
    drivers = {levels[0][p]: members[p][: max(1, round(causal_gene_share * len(members[p])))] for p in causal_leaves}
    causal_genes = sorted({int(g) for genes in drivers.values() for g in genes})
    tf_pool = rng.choice(n_tfs, size=n_causal_tfs, replace=False)

    # Prior eQTL and GRN lists for every node, the planted inputs of causal nodes listed first.
    window = max(2 * snps_per_block, 4)
    tf_centres = rng.integers(n_snps, size=n_tfs)
    tf_eqtls = [_cis_eqtls(rng, centre, n_snps, window, listed_eqtls) for centre in tf_centres]
    gene_eqtls = [_cis_eqtls(rng, int((j + 0.5) * n_snps / n_genes), n_snps, window, listed_eqtls) for j in range(n_genes)]
    gene_regulators = []
    causal_set = set(causal_genes)
    for j in range(n_genes):
        listed = rng.choice(n_tfs, size=min(n_tfs, 1 + rng.poisson(max(listed_regulators - 1, 0))), replace=False)
        planted = rng.choice(tf_pool, size=regulators_per_gene, replace=False) if j in causal_set else []
        gene_regulators.append(np.asarray(list(dict.fromkeys([*planted, *listed])), dtype=int))
    regulators = {j: gene_regulators[j][:regulators_per_gene] for j in causal_genes}
    causal_tfs = sorted({int(t) for tfs in regulators.values() for t in tfs})

    # Latent activities of the planted nodes and the planted edges that carry them.
    edges: list[tuple[str, str, str, float]] = []
    tf_snps, tf_activity = {}, {}
    for t in causal_tfs:
        tf_snps[t] = tf_eqtls[t][: 1 + int(rng.random() < 0.3)]
        effects = _signed_effects(rng, len(tf_snps[t]))
        edges += [(relation_name(SNP_TF), snp_ids[s], tf_ids[t], e) for s, e in zip(tf_snps[t], effects)]
        genetic = _standardise(std_dosage[:, tf_snps[t]] @ effects)
        tf_activity[t] = np.sqrt(tf_snp_share) * genetic + np.sqrt(1 - tf_snp_share) * rng.normal(size=n_samples)
    gene_snps, gene_activity = {}, {}
    noise_share = max(1.0 - snp_share - tf_share, 0.0)
    for j in causal_genes:
        gene_snps[j] = gene_eqtls[j][: 1 + int(rng.random() < 0.3)]
        snp_effects = _signed_effects(rng, len(gene_snps[j]))
        tf_effects = _signed_effects(rng, len(regulators[j]))
        edges += [(relation_name(SNP_GENE), snp_ids[s], gene_ids[j], e) for s, e in zip(gene_snps[j], snp_effects)]
        edges += [(relation_name(TF_GENE), tf_ids[t], gene_ids[j], e) for t, e in zip(regulators[j], tf_effects)]
        regulation = np.column_stack([tf_activity[t] for t in regulators[j]]) @ tf_effects
        gene_activity[j] = (
            np.sqrt(snp_share) * _standardise(std_dosage[:, gene_snps[j]] @ snp_effects)
            + np.sqrt(tf_share) * _standardise(regulation)
            + np.sqrt(noise_share) * rng.normal(size=n_samples)
        )
    pathway_activity = {}
    for pathway, genes in drivers.items():
        effects = _signed_effects(rng, len(genes))
        edges += [(relation_name(GENE_PATHWAY), gene_ids[g], pathway, e) for g, e in zip(genes, effects)]
        drive = np.column_stack([gene_activity[int(g)] for g in genes]) @ effects
        pathway_activity[pathway] = _activate(_standardise(drive), pathway_activation, 0.0)
    planted = sorted(drivers)
    ancestors = {}
    for level in range(2, depth + 1):
        drive = {}
        for child in planted:
            for parent, effect in zip(parents_of[child], _signed_effects(rng, len(parents_of[child]))):
                edges.append((relation_name(PATHWAY_PARENT), child, parent, effect))
                drive[parent] = drive.get(parent, 0.0) + effect * pathway_activity[child]
        planted = ancestors[level] = sorted(drive)
        for parent in planted:
            pathway_activity[parent] = _activate(_standardise(drive[parent]), pathway_activation, 0.0)

    # The planted roots (the causal leaves themselves when depth == 1) sum to the liability.
    signal = _standardise(np.sum([pathway_activity[p] for p in planted], axis=0))
    liability = np.sqrt(heritability) * signal + np.sqrt(1 - heritability) * rng.normal(size=n_samples)
    if phenotype == "binary":
        labels = pd.Series(np.where(liability > np.median(liability), "case", "control"), index=samples, name="label")
    elif phenotype == "continuous":
        labels = pd.Series(liability, index=samples, name="label")
    else:
        time, event = _survival_times(rng, log_hazard_ratio * _standardise(liability), censoring)
        labels = pd.DataFrame({"time": time, "event": event}, index=samples)

    prior = {
        SNP_TF: _edge_frame((snp_ids[s], tf_ids[t]) for t in range(n_tfs) for s in tf_eqtls[t]),
        SNP_GENE: _edge_frame((snp_ids[s], gene_ids[j]) for j in range(n_genes) for s in gene_eqtls[j]),
        TF_GENE: _edge_frame((tf_ids[t], gene_ids[j]) for j in range(n_genes) for t in gene_regulators[j]),
        GENE_PATHWAY: _edge_frame((gene_ids[g], levels[0][p]) for p in range(len(levels[0])) for g in members[p]),
    }
    if depth > 1:
        prior[PATHWAY_PARENT] = _edge_frame((child, parent) for child, parents in parents_of.items() for parent in parents)

    chains = [
        (snp_ids[s], tf, gene_ids[j], pathway)
        for pathway, genes in drivers.items()
        for j in sorted(int(g) for g in genes)
        for s, tf in [*((s, None) for s in gene_snps[j]), *((s, tf_ids[t]) for t in regulators[j] for s in tf_snps[t])]
    ]
    causal_snps = sorted({int(s) for snps in [*tf_snps.values(), *gene_snps.values()] for s in snps})
    planted_pathways = sorted(pathway_activity)
    truth = {
        "causal_pathways": sorted(drivers),
        "causal_pathway_ancestors": ancestors,
        "pathway_level": pd.Series({p: level for level, names in enumerate(levels, start=1) for p in names}, name="level"),
        "causal_genes": list(gene_ids[causal_genes]),
        "causal_tfs": list(tf_ids[causal_tfs]),
        "causal_snps": list(snp_ids[causal_snps]),
        "chains": pd.DataFrame(chains, columns=["snp", "tf", "gene", "pathway"]),
        "edges": pd.DataFrame(edges, columns=["relation", "source", "target", "effect"]),
        "signal": pd.Series(signal, index=samples, name="signal"),
        "heritability": heritability,
    }
    activity = {
        "tf": pd.DataFrame({tf_ids[t]: tf_activity[t] for t in causal_tfs}, index=samples, dtype=np.float32),
        "gene": pd.DataFrame({gene_ids[j]: gene_activity[j] for j in causal_genes}, index=samples, dtype=np.float32),
        "pathway": pd.DataFrame({p: pathway_activity[p] for p in planted_pathways}, index=samples, dtype=np.float32),
    }
    return HierarchicalCohort(
        snp=pd.DataFrame(dosage, index=samples, columns=snp_ids),
        labels=labels,
        prior=prior,
        activity=activity,
        truth=truth,
        phenotype=phenotype,
    )


def _level_sizes(n_pathways: int, depth: int, n_roots: int) -> list[int]:
    """Pathways per level, leaves first: ``n_roots`` at the top, growing by a common factor downwards."""
    if depth == 1:
        return [n_pathways]
    growth = brentq(lambda q: n_roots * sum(q**k for k in range(depth)) - n_pathways, 1.0, n_pathways)
    upper = [max(1, round(n_roots * growth**k)) for k in range(depth - 2, 0, -1)] + [n_roots]
    return [n_pathways - sum(upper), *upper]


def _assign_parents(rng: np.random.Generator, n_children: int, n_parents: int, second_parent: float) -> list[tuple[int, int]]:
    """(child, parent) index pairs: one parent per child, two with probability ``second_parent``.

    Every parent gets a child when there are enough children, so no pathway above the leaves is empty.
    """
    first = rng.integers(n_parents, size=n_children)
    cover = min(n_children, n_parents)
    first[rng.permutation(n_children)[:cover]] = rng.permutation(n_parents)[:cover]
    pairs = [(child, int(parent)) for child, parent in enumerate(first)]
    if n_parents > 1:
        for child in np.flatnonzero(rng.random(n_children) < second_parent):
            pairs.append((int(child), int((first[child] + rng.integers(1, n_parents)) % n_parents)))
    return pairs


def _cis_eqtls(rng: np.random.Generator, centre: int, n_snps: int, window: int, mean: float) -> np.ndarray:
    """Indices of the SNPs a prior lists as eQTLs of a node at ``centre`` (at least 2, within ``window``)."""
    cis = np.arange(max(0, centre - window // 2), min(n_snps, centre + window // 2))
    return rng.choice(cis, size=min(len(cis), 2 + rng.poisson(max(mean - 2, 0))), replace=False)


def _signed_effects(rng: np.random.Generator, n: int) -> np.ndarray:
    """Effects (n,) of random sign and magnitude in [0.5, 1)."""
    return rng.choice([-1, 1], size=n) * rng.uniform(0.5, 1.0, size=n)


def _edge_frame(pairs: Iterable[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(list(pairs), columns=["source", "target"]).drop_duplicates(ignore_index=True)
