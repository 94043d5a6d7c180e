"""Shared genotype code for the PLINK reader and the VCF adapter: result type, options, filters, imputation.

Both :func:`deepgami.plink.load_plink` and :func:`deepgami.adapters.vcf.load_vcf` read their
file into a float32 dosage matrix of shape (n_samples, n_snps) with NaN for missing calls, then
hand it to :func:`finalize_dosages`, which applies the missingness and minor-allele-frequency
filters, imputes, checks ids and builds the :class:`GenotypeTable`. It is core code because
:func:`deepgami.readers.read_modality` reads PLINK filesets through it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import MISSING_INT8
from .errors import InputError, preview

logger = logging.getLogger(__name__)

SNP_ID_MODES = ("rsid", "chr_pos_ref_alt")
IMPUTE_MODES = ("mean", "none")

# Columns are processed in blocks of about this many matrix entries (16 MB of float32), so the
# temporaries of the statistics and the imputation stay small next to the matrix itself.
_BLOCK_ENTRIES = 1 << 22


@dataclass
class GenotypeTable:
    """A genotype modality table and what the adapter dropped or filled in to build it.

    Attributes
    ----------
    dosages : DataFrame of shape (n_samples, n_snps)
        float32 dosages: the number of copies (0, 1, 2) of the counted allele (PLINK A1, VCF
        ALT); int8 from ``load_plink(..., dtype="int8")``. Index: sample ids (str); columns:
        SNP ids (str). Missing calls are NaN (int8: ``deepgami.data.MISSING_INT8``) when the
        adapter ran with ``impute="none"``.
    n_dropped_maf : int
        SNPs removed because their minor-allele frequency was below ``min_maf``.
    n_dropped_missing : int
        SNPs removed because their fraction of missing calls exceeded ``max_missing``, or
        because they had no call at all.
    n_imputed_calls : int
        Missing calls replaced by the SNP's mean dosage (0 with ``impute="none"``).
    n_skipped_multiallelic : int
        VCF sites with more than one ALT allele that were skipped (always 0 for PLINK).
    """

    dosages: pd.DataFrame
    n_dropped_maf: int
    n_dropped_missing: int
    n_imputed_calls: int
    n_skipped_multiallelic: int = 0

    def summary(self) -> str:
        """Return a one-line account of the table's size and of the adapter's counts.

        Returns
        -------
        str
            For example ``'12 samples x 27 SNPs; dropped 2 SNPs by MAF, 1 by missingness;
            imputed 4 missing calls'``.
        """
        n_samples, n_snps = self.dosages.shape
        text = (
            f"{n_samples} samples x {n_snps} SNPs; dropped {self.n_dropped_maf} SNPs by MAF, "
            f"{self.n_dropped_missing} by missingness; imputed {self.n_imputed_calls} missing calls"
        )
        if self.n_skipped_multiallelic:
            text += f"; skipped {self.n_skipped_multiallelic} multi-allelic sites"
        return text


def check_options(snp_id: str, min_maf: float, max_missing: float, impute: str) -> None:
    """Validate the options shared by the genotype adapters.

    Parameters
    ----------
    snp_id : str
        One of ``SNP_ID_MODES``.
    min_maf : float
        Minor-allele-frequency threshold, in [0, 0.5].
    max_missing : float
        Largest fraction of missing calls a SNP may have, in [0, 1].
    impute : str
        One of ``IMPUTE_MODES``.

    Raises
    ------
    InputError
        If an option has a value outside its allowed set or range.
    """
    if snp_id not in SNP_ID_MODES:
        msg = f"snp_id must be one of {', '.join(map(repr, SNP_ID_MODES))}, got {snp_id!r}"
        raise InputError(msg)
    if impute not in IMPUTE_MODES:
        msg = f"impute must be one of {', '.join(map(repr, IMPUTE_MODES))}, got {impute!r}"
        raise InputError(msg)
    if not 0.0 <= float(min_maf) <= 0.5:
        msg = f"min_maf must lie in [0, 0.5] (a minor-allele frequency), got {min_maf!r}"
        raise InputError(msg)
    if not 0.0 <= float(max_missing) <= 1.0:
        msg = f"max_missing must lie in [0, 1] (a fraction of samples), got {max_missing!r}"
        raise InputError(msg)


def _column_blocks(n_rows: int, n_cols: int):
    step = max(1, _BLOCK_ENTRIES // max(n_rows, 1))
    for start in range(0, n_cols, step):
        yield slice(start, min(start + step, n_cols))


def finalize_dosages(
    dosages: np.ndarray,
    sample_ids: list[str],
    snp_ids: list[str],
    *,
    min_maf: float,
    max_missing: float,
    impute: str,
    snp_id: str,
    source: str,
    sample_hint: str,
    n_skipped_multiallelic: int = 0,
) -> GenotypeTable:
    """Filter, impute and wrap a dosage matrix as a :class:`GenotypeTable`.

    Missingness is filtered first, then minor-allele frequency among the SNPs left, so each
    dropped SNP is counted once. Frequencies are computed on the calls present: the allele
    frequency is ``sum(dosage) / (2 * n_called)`` and the MAF is ``min(p, 1 - p)``.

    Parameters
    ----------
    dosages : ndarray of shape (n_samples, n_snps)
        float32 dosages with NaN for missing calls, or int8 dosages with MISSING_INT8 (then
        ``impute`` must be ``"none"``). It is owned by the caller, who hands it over: missing
        calls are imputed in place.
    sample_ids, snp_ids : list of str
        Row and column ids.
    min_maf, max_missing, impute, snp_id : see the adapters.
    source : str
        The file, for messages and logs.
    sample_hint : str
        What to suggest when sample ids repeat.
    n_skipped_multiallelic : int, default 0
        Count carried into the result.

    Returns
    -------
    GenotypeTable
        The filtered table and its counts.

    Raises
    ------
    InputError
        If there is no sample, sample ids repeat, no SNP is left after the filters, or SNP ids
        repeat among the SNPs kept.
    """
    compact = dosages.dtype == np.int8
    if not compact and dosages.dtype != np.float32:
        dosages = dosages.astype(np.float32)
    if compact and impute != "none":
        msg = (
            "int8 dosages cannot hold imputed means; use impute='none' and let deepgami impute "
            "training means (missing = \"mean\" for the genotype modality)"
        )
        raise InputError(msg)
    n_samples, n_snps = dosages.shape
    if n_samples == 0:
        msg = f"{source} has no samples; give a file with at least one sample"
        raise InputError(msg)
    samples = pd.Index([str(s) for s in sample_ids])
    if samples.has_duplicates:
        dup = samples[samples.duplicated()].unique()
        msg = f"{len(dup)} sample ids repeat in {source} (e.g. {preview(dup)}); {sample_hint}"
        raise InputError(msg)

    n_called = np.empty(n_snps, dtype=np.int64)
    sums = np.empty(n_snps, dtype=np.float64)
    for block in _column_blocks(n_samples, n_snps):
        part = dosages[:, block]
        if compact:
            part = np.where(part == MISSING_INT8, np.float32(np.nan), part.astype(np.float32))
        n_called[block] = n_samples - np.isnan(part).sum(axis=0)
        sums[block] = np.nansum(part, axis=0, dtype=np.float64)

    no_calls = n_called == 0
    drop_missing = no_calls | ((n_samples - n_called) / n_samples > max_missing)
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = sums / (2.0 * n_called)
    maf = np.minimum(freq, 1.0 - freq)
    drop_maf = ~drop_missing & (maf < min_maf)
    keep = ~(drop_missing | drop_maf)
    n_dropped_missing = int(drop_missing.sum())
    n_dropped_maf = int(drop_maf.sum())

    if max_missing >= 1.0 and no_calls.any():
        names = [snp_ids[i] for i in np.flatnonzero(no_calls)]
        msg = f"dropped {len(names)} SNPs without any call in {source}: {preview(names)}"
        # stacklevel=3: this helper -> the adapter -> the user's call.
        warnings.warn(msg, stacklevel=3)

    if not keep.any():
        extra = f", {n_skipped_multiallelic} multi-allelic sites skipped" if n_skipped_multiallelic else ""
        msg = (
            f"no SNP left in {source} after filters: {n_snps} read{extra}, {n_dropped_missing} removed by "
            f"max_missing={max_missing} (or without calls), {n_dropped_maf} by min_maf={min_maf}; "
            "relax max_missing or min_maf, or check the file"
        )
        raise InputError(msg)

    columns = pd.Index([str(s) for s, k in zip(snp_ids, keep) if k])
    if columns.has_duplicates:
        dup = columns[columns.duplicated()].unique()
        other = "chr_pos_ref_alt" if snp_id == "rsid" else "rsid"
        msg = (
            f"{len(dup)} SNP ids repeat in {source} with snp_id={snp_id!r} (e.g. {preview(dup)}); "
            f"use snp_id={other!r} or remove the duplicated sites"
        )
        raise InputError(msg)

    if not keep.all():
        # One copy that keeps the input's memory order (row-major int8 batches stay row-major).
        dosages = dosages.compress(keep, axis=1) if dosages.flags.c_contiguous else dosages.T[keep].T
    n_called = n_called[keep]
    n_imputed = 0
    if impute == "mean":
        means = (sums[keep] / n_called).astype(np.float32)
        n_missing = n_samples - n_called
        n_imputed = int(n_missing.sum())
        for block in _column_blocks(n_samples, dosages.shape[1]):
            if n_missing[block].any():
                part = dosages[:, block]
                np.copyto(part, means[block][None, :], where=np.isnan(part))

    frame = pd.DataFrame(dosages, index=samples, columns=columns, copy=False)
    table = GenotypeTable(
        dosages=frame,
        n_dropped_maf=n_dropped_maf,
        n_dropped_missing=n_dropped_missing,
        n_imputed_calls=n_imputed,
        n_skipped_multiallelic=n_skipped_multiallelic,
    )
    logger.info("%s: %s", source, table.summary())
    return table
