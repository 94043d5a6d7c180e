"""VCF and BCF files (plain, bgzipped or binary) as a genotype modality table.

Needs the optional dependency ``cyvcf2``, imported when :func:`load_vcf` is called.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError, preview
from ..genotypes import GenotypeTable, check_options, finalize_dosages

__all__ = ["GenotypeTable", "load_vcf"]


def _open(path: Path, samples: list[str] | None):
    from cyvcf2 import VCF

    try:
        return VCF(str(path), samples=samples)
    except OSError as error:
        msg = f"{path} is not a readable VCF or BCF file ({error}); give a VCF (.vcf, .vcf.gz) or BCF (.bcf)"
        raise InputError(msg.replace("\n", " ")) from error


def _check_samples(path: Path, in_file: list[str], samples: Sequence[str]) -> list[str]:
    if isinstance(samples, str):
        msg = f"samples must be a list of sample names, got the string {samples!r}; wrap it in a list"
        raise InputError(msg)
    wanted = [str(s) for s in samples]
    if not wanted:
        msg = "samples is empty; give at least one sample name or None for all samples"
        raise InputError(msg)
    seen: set[str] = set()
    repeated = [s for s in wanted if s in seen or seen.add(s)]
    if repeated:
        msg = f"samples lists {len(repeated)} names twice ({preview(repeated)}); give each sample once"
        raise InputError(msg)
    known = set(in_file)
    absent = [s for s in wanted if s not in known]
    if absent:
        msg = (
            f"{len(absent)} of the requested samples are not in {path} (e.g. {preview(absent)}); "
            f"its samples are {preview(in_file)}"
        )
        raise InputError(msg)
    return wanted


def load_vcf(
    path: str | Path,
    *,
    snp_id: str = "rsid",
    min_maf: float = 0.0,
    max_missing: float = 1.0,
    impute: str = "mean",
    samples: Sequence[str] | None = None,
) -> GenotypeTable:
    """Read the GT calls of a VCF/BCF file as a samples x SNPs dosage table.

    The dosage is the number of **ALT** alleles in the GT call: 0/0 -> 0, 0/1 and 1|0 -> 1,
    1/1 -> 2. A call with any missing allele (``./.``, ``./1``, ``.``) is missing (NaN before
    imputation). Haploid calls give 0 or 1. Sites without an ALT allele (ALT ``.``) are kept
    with dosage 0. Multi-allelic sites (more than one ALT) are skipped with one warning that
    counts them; split them beforehand (``bcftools norm -m -both``) to keep them. FILTER and
    QUAL are ignored.

    Parameters
    ----------
    path : str or Path
        A VCF (``.vcf``, ``.vcf.gz``) or BCF file with a GT FORMAT field.
    snp_id : {"rsid", "chr_pos_ref_alt"}, default "rsid"
        ``"rsid"``: the ID column, or ``{CHROM}_{POS}_{REF}_{ALT}`` where the ID is ``.``.
        ``"chr_pos_ref_alt"``: always ``{CHROM}_{POS}_{REF}_{ALT}``.
    min_maf : float, default 0.0
        SNPs with minor-allele frequency below this (on the calls present) are dropped.
    max_missing : float, default 1.0
        SNPs whose fraction of missing calls exceeds this are dropped. SNPs with no call at all
        are always dropped (with a warning when ``max_missing`` is 1.0).
    impute : {"mean", "none"}, default "mean"
        ``"mean"`` replaces each missing call by the SNP's mean dosage over its calls present;
        ``"none"`` keeps NaN (deepgami then errors or imputes as its config says).
    samples : sequence of str, optional
        Sample names to read, in the order wanted for the rows. None reads all samples in file
        order.

    Returns
    -------
    GenotypeTable
        ``dosages`` (DataFrame of shape (n_samples, n_snps), float32, sample names as index,
        SNP ids as columns in file order) and the counts ``n_dropped_maf``,
        ``n_dropped_missing``, ``n_imputed_calls`` and ``n_skipped_multiallelic``.

    Raises
    ------
    InputError
        If an option is invalid, the file is missing or not a VCF/BCF, it has no samples or no
        GT field, a requested sample is absent, ids repeat, or no SNP is left after the filters.

    Warns
    -----
    UserWarning
        When multi-allelic sites are skipped, or SNPs without any call are dropped.
    """
    check_options(snp_id, min_maf, max_missing, impute)
    path = Path(path)
    if not path.is_file():
        msg = f"VCF file {path} does not exist; check the path"
        raise InputError(msg)

    header = _open(path, None)
    in_file = list(header.samples)
    header.close()
    if not in_file:
        msg = f"VCF {path} has no sample columns; give a VCF with genotype (GT) calls per sample"
        raise InputError(msg)
    order = None
    if samples is not None:
        wanted = _check_samples(path, in_file, samples)
        reader = _open(path, wanted)
        # cyvcf2 returns the kept samples in file order; rows follow the requested order.
        position = {name: i for i, name in enumerate(reader.samples)}
        order = np.array([position[name] for name in wanted], dtype=np.intp)
        sample_ids = wanted
    else:
        reader = _open(path, None)
        sample_ids = in_file

    rows: list[np.ndarray] = []
    snp_ids: list[str] = []
    skipped: list[str] = []
    try:
        for variant in reader:
            alt = variant.ALT
            name = f"{variant.CHROM}_{variant.POS}_{variant.REF}_{alt[0] if alt else '.'}"
            if len(alt) > 1:
                skipped.append(variant.ID or f"{variant.CHROM}_{variant.POS}_{variant.REF}_{','.join(alt)}")
                continue
            try:
                calls = variant.genotype.array()
            except Exception as error:  # cyvcf2 raises a bare Exception when GT is absent
                msg = f"record {variant.CHROM}:{variant.POS} of {path} has no GT field; give a VCF with GT calls"
                raise InputError(msg) from error
            alleles = calls[:, :-1]  # the last column is the phasing flag
            dosage = (alleles > 0).sum(axis=1).astype(np.float32)  # -1 missing, -2 ploidy padding
            dosage[(alleles == -1).any(axis=1)] = np.nan
            rows.append(dosage if order is None else dosage[order])
            snp_ids.append(name if snp_id == "chr_pos_ref_alt" or not variant.ID else variant.ID)
    finally:
        reader.close()

    if skipped:
        msg = (
            f"skipped {len(skipped)} multi-allelic sites in {path} ({preview(skipped)}); "
            "split them with bcftools norm -m -both to keep them"
        )
        warnings.warn(msg, stacklevel=2)
    if rows:
        dosages = np.stack(rows).T  # (n_samples, n_snps), Fortran-ordered
    else:
        dosages = np.empty((len(sample_ids), 0), dtype=np.float32)
    del rows
    return finalize_dosages(
        dosages,
        sample_ids,
        snp_ids,
        min_maf=min_maf,
        max_missing=max_missing,
        impute=impute,
        snp_id=snp_id,
        source=str(path),
        sample_hint="make the VCF sample names unique",
        n_skipped_multiallelic=len(skipped),
    )
