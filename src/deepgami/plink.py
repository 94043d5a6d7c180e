"""PLINK 1 binary filesets (.bed/.bim/.fam) as a genotype modality table.

Core code, because :func:`deepgami.readers.read_modality` reads a ``.bed`` modality with it;
:mod:`deepgami.adapters.plink` exports it beside the other adapters. Needs the optional
dependency ``bed-reader``, imported when :func:`load_plink` is called.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .genotypes import GenotypeTable, check_options, finalize_dosages

__all__ = ["GenotypeTable", "load_plink"]

_SAMPLE_ID_MODES = ("iid", "fid_iid")
_BED_MAGIC = b"\x6c\x1b"
_SNP_MAJOR = 1


def _fileset(bed_path: str | Path) -> dict[str, Path]:
    """Return the .bed/.bim/.fam paths for a path given with or without its extension."""
    path = Path(bed_path)
    prefix = path
    for suffix in (".bed", ".bim", ".fam"):
        if path.name.endswith(suffix):
            prefix = path.with_name(path.name[: -len(suffix)])
            break
    return {suffix: prefix.with_name(prefix.name + suffix) for suffix in (".bed", ".bim", ".fam")}


def _check_bed_header(bed: Path) -> None:
    with open(bed, "rb") as handle:
        header = handle.read(3)
    if len(header) < 3 or header[:2] != _BED_MAGIC:
        msg = (
            f"{bed} is not a PLINK 1 .bed file (its first bytes are not the .bed magic number); "
            "give a PLINK binary fileset, e.g. made with plink --make-bed"
        )
        raise InputError(msg)
    if header[2] != _SNP_MAJOR:
        msg = f"{bed} is an individual-major PLINK .bed (an old format); rewrite it with plink --make-bed"
        raise InputError(msg)


def load_plink(
    bed_path: str | Path,
    *,
    snp_id: str = "rsid",
    min_maf: float = 0.0,
    max_missing: float = 1.0,
    impute: str = "mean",
    sample_id: str = "iid",
    dtype: str = "float32",
) -> GenotypeTable:
    """Read a PLINK 1 binary fileset as a samples x SNPs dosage table.

    The dosage is the number of copies of the **A1 allele** (column 5 of the .bim), as
    PLINK and bed-reader count it by default (``count_A1=True``). A fileset converted from a VCF
    with PLINK 2, or with PLINK 1.9 and ``--keep-allele-order``, has A1 = ALT and A2 = REF, so
    the dosage equals :func:`deepgami.adapters.vcf.load_vcf`'s ALT count. PLINK 1.9 without
    ``--keep-allele-order`` makes A1 the minor allele, which need not be the ALT allele.

    Parameters
    ----------
    bed_path : str or Path
        The .bed file, or the fileset prefix without extension (a .bim or .fam path also
        works). The .bim and .fam files must sit beside it with the same prefix.
    snp_id : {"rsid", "chr_pos_ref_alt"}, default "rsid"
        ``"rsid"``: the .bim variant id (column 2). ``"chr_pos_ref_alt"``:
        ``{chrom}_{pos}_{A2}_{A1}``, i.e. the non-counted allele in the REF slot and the counted
        allele in the ALT slot, the same layout as the VCF adapter's ``{CHROM}_{POS}_{REF}_{ALT}``.
    min_maf : float, default 0.0
        SNPs with minor-allele frequency below this (on the calls present) are dropped.
    max_missing : float, default 1.0
        SNPs whose fraction of missing calls exceeds this are dropped. SNPs with no call at all
        are always dropped (with a warning when ``max_missing`` is 1.0).
    impute : {"mean", "none"}, default "mean"
        ``"mean"`` replaces each missing call by the SNP's mean dosage over its calls present;
        ``"none"`` keeps NaN (deepgami then errors or imputes as its config says).
    sample_id : {"iid", "fid_iid"}, default "iid"
        Sample ids: the .fam individual id, or ``{FID}_{IID}``.
    dtype : {"float32", "int8"}, default "float32"
        ``"int8"`` keeps one byte per call in sample-major order (a 1M-SNP x 2,000-sample
        panel takes 2 GB instead of 8 GB) with missing calls as ``deepgami.data.MISSING_INT8``;
        it needs ``impute="none"``, and deepgami imputes training means when the genotype
        modality has ``missing = "mean"``. deepgami converts such tables one batch at a time.

    Returns
    -------
    GenotypeTable
        ``dosages`` (DataFrame of shape (n_samples, n_snps), float32, sample ids as index, SNP
        ids as columns, in file order) and the counts ``n_dropped_maf``,
        ``n_dropped_missing`` and ``n_imputed_calls``.

    Raises
    ------
    InputError
        If an option is invalid, a file of the trio is missing, the .bed is not a PLINK 1
        SNP-major .bed or does not match the .bim/.fam, ids repeat, or no SNP is left after
        the filters.
    """
    check_options(snp_id, min_maf, max_missing, impute)
    if dtype not in ("float32", "int8"):
        msg = f"dtype must be 'float32' or 'int8', got {dtype!r}"
        raise InputError(msg)
    if dtype == "int8" and impute != "none":
        msg = "dtype='int8' keeps missing calls as they are: pass impute='none' (deepgami imputes training means)"
        raise InputError(msg)
    if sample_id not in _SAMPLE_ID_MODES:
        msg = f"sample_id must be one of {', '.join(map(repr, _SAMPLE_ID_MODES))}, got {sample_id!r}"
        raise InputError(msg)
    paths = _fileset(bed_path)
    missing = [path.name for path in paths.values() if not path.is_file()]
    if missing:
        prefix = paths[".bed"].with_suffix("")
        msg = (
            f"PLINK fileset {prefix} is missing {', '.join(missing)}; "
            "put the .bed, .bim and .fam files side by side with the same prefix"
        )
        raise InputError(msg)
    bed = paths[".bed"]
    _check_bed_header(bed)

    from bed_reader import open_bed

    try:
        with open_bed(bed, count_A1=True, bim_filepath=paths[".bim"], fam_filepath=paths[".fam"]) as reader:
            iids = [str(i) for i in reader.iid]
            fids = [str(f) for f in reader.fid]
            if snp_id == "rsid":
                snp_ids = [str(s) for s in reader.sid]
            else:
                snp_ids = [
                    f"{chrom}_{pos}_{a2}_{a1}"
                    for chrom, pos, a2, a1 in zip(
                        reader.chromosome, reader.bp_position, reader.allele_2, reader.allele_1
                    )
                ]
            n_samples, n_snps = len(iids), len(snp_ids)
            expected = 3 + n_snps * ((n_samples + 3) // 4)
            size = bed.stat().st_size
            if size != expected:
                msg = (
                    f"{bed} has {size} bytes but its .fam ({n_samples} samples) and .bim ({n_snps} SNPs) "
                    f"imply {expected}; use the .bim/.fam written with this .bed"
                )
                raise InputError(msg)
            # float32 in SNP-major order for the column filters; int8 in sample-major order, so a
            # batch of samples is a contiguous read.
            dosages = reader.read(dtype=dtype, order="F" if dtype == "float32" else "C")
    except (ValueError, OSError) as error:
        if isinstance(error, InputError):
            raise
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        msg = (
            f"PLINK fileset {bed.with_suffix('')} could not be read ({detail}); "
            "check that the .bim/.fam are well formed"
        )
        raise InputError(msg) from error

    sample_ids = iids if sample_id == "iid" else [f"{f}_{i}" for f, i in zip(fids, iids)]
    return finalize_dosages(
        dosages,
        sample_ids,
        snp_ids,
        min_maf=min_maf,
        max_missing=max_missing,
        impute=impute,
        snp_id=snp_id,
        source=str(bed),
        sample_hint="use sample_id='fid_iid' or make the .fam IIDs unique",
    )
