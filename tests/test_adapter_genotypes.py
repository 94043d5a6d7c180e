"""PLINK and VCF genotype adapters on fixture-size files written in tmp_path."""

from __future__ import annotations

import logging

import cyvcf2  # noqa: F401  (the [adapters] extra: without it this file fails, it is not skipped)
import numpy as np
import pandas as pd
import pytest
from bed_reader import to_bed

from deepgami.adapters.plink import load_plink
from deepgami.adapters.vcf import load_vcf
from deepgami.data import MISSING_INT8
from deepgami.errors import InputError

N_SAMPLES, N_SNPS = 12, 30
MONO, LOW_MAF, HIGH_MISSING, NO_ID = 0, 1, 2, 3  # special SNP columns


def _genotypes() -> dict:
    """Dosages (ALT/A1 counts, NaN missing) and their sample and SNP annotations."""
    rng = np.random.default_rng(7)
    g = rng.integers(0, 3, size=(N_SAMPLES, N_SNPS)).astype(np.float32)
    g[:3, :] = np.array([[0], [1], [2]], dtype=np.float32)  # every SNP has >= 3 copies of each allele
    g[:, MONO] = 0.0  # monomorphic
    g[:, LOW_MAF] = 0.0
    g[5, LOW_MAF] = 1.0  # MAF 1/24
    g[4:11, HIGH_MISSING] = np.nan  # 7 of 12 missing
    for i, j in [(3, 5), (6, 5), (8, 9), (11, 20)]:  # scattered missing calls
        g[i, j] = np.nan
    for j in range(HIGH_MISSING, N_SNPS):  # no SNP with MAF exactly 0.5, so min_maf=0.5 drops all
        called = g[~np.isnan(g[:, j]), j]
        if called.sum() == called.size:
            r = 3 + int(np.flatnonzero(~np.isnan(g[3:, j]))[0])  # a called row past the fixed first three
            g[r, j] = g[r, j] + 1 if g[r, j] < 2 else 1
    bases = "ACGT"
    ref = [bases[j % 4] for j in range(N_SNPS)]
    alt = [bases[(j + 1) % 4] for j in range(N_SNPS)]
    chrom = ["1" if j < 20 else "2" for j in range(N_SNPS)]
    pos = [1000 + 100 * j for j in range(N_SNPS)]
    cpra = [f"{c}_{p}_{r}_{a}" for c, p, r, a in zip(chrom, pos, ref, alt)]
    rsid = [f"rs{100 + j}" for j in range(N_SNPS)]
    rsid[NO_ID] = cpra[NO_ID]  # what the VCF's '.' ID falls back to
    return {
        "g": g,
        "iid": [f"s{i:02d}" for i in range(N_SAMPLES)],
        "fid": [f"fam{i // 2}" for i in range(N_SAMPLES)],
        "chrom": chrom,
        "pos": pos,
        "ref": ref,
        "alt": alt,
        "rsid": rsid,
        "cpra": cpra,
    }


GENO = _genotypes()


def _write_plink(prefix, geno=GENO, sid=None, iid=None):
    to_bed(
        f"{prefix}.bed",
        geno["g"],
        properties={
            "fid": geno["fid"],
            "iid": iid or geno["iid"],
            "sid": sid or geno["rsid"],
            "chromosome": geno["chrom"],
            "bp_position": geno["pos"],
            "allele_1": geno["alt"],  # A1: the counted allele
            "allele_2": geno["ref"],
        },
    )
    return prefix


_GT = {0.0: "0/0", 1.0: "0/1", 2.0: "1/1"}
_GT_PHASED = {0.0: "0|0", 1.0: "1|0", 2.0: "1|1"}


def _vcf_lines(geno=GENO, ids=None, multiallelic=True):
    lines = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=1>",
        "##contig=<ID=2>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *geno["iid"]]),
    ]
    ids = ids or ["." if j == NO_ID else geno["rsid"][j] for j in range(N_SNPS)]
    for j in range(N_SNPS):
        table = _GT_PHASED if j % 2 else _GT
        calls = ["./." if np.isnan(d) else table[float(d)] for d in geno["g"][:, j]]
        fields = [geno["chrom"][j], str(geno["pos"][j]), ids[j], geno["ref"][j], geno["alt"][j], ".", "PASS", "."]
        lines.append("\t".join([*fields, "GT", *calls]))
        if multiallelic and j == 10:
            calls = ["0/2", "1/2", *["0/0"] * (N_SAMPLES - 2)]
            lines.append("\t".join(["1", str(geno["pos"][j] + 1), "rs_multi", "A", "C,G", ".", ".", ".", "GT", *calls]))
    return lines


def _write_vcf(path, lines=None):
    path.write_text("\n".join(lines or _vcf_lines()) + "\n")
    return path


@pytest.fixture
def plink_prefix(tmp_path):
    return _write_plink(tmp_path / "cohort")


@pytest.fixture
def vcf_path(tmp_path):
    return _write_vcf(tmp_path / "cohort.vcf")


def _expected(columns=None):
    frame = pd.DataFrame(GENO["g"], index=GENO["iid"], columns=GENO["rsid"])
    return frame if columns is None else frame[columns]


def _load_vcf(path, **kwargs):
    with pytest.warns(UserWarning, match="skipped 1 multi-allelic sites"):
        return load_vcf(path, **kwargs)


def _one_line_error(match, func, *args, **kwargs):
    with pytest.raises(InputError, match=match) as info:
        func(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


# -- PLINK --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".bed", ".bim"])
def test_plink_dosages_exact(plink_prefix, suffix):
    table = load_plink(f"{plink_prefix}{suffix}", impute="none")
    frame = table.dosages
    assert frame.shape == (N_SAMPLES, N_SNPS)
    assert (frame.dtypes == np.float32).all()
    assert all(isinstance(i, str) for i in frame.index)
    assert all(isinstance(c, str) for c in frame.columns)
    pd.testing.assert_frame_equal(frame, _expected())
    assert (table.n_dropped_maf, table.n_dropped_missing, table.n_imputed_calls) == (0, 0, 0)


def test_plink_id_modes(plink_prefix):
    table = load_plink(plink_prefix, snp_id="chr_pos_ref_alt", sample_id="fid_iid")
    # {chrom}_{pos}_{A2}_{A1}: A1, the counted allele, sits in the ALT slot.
    assert list(table.dosages.columns) == GENO["cpra"]
    assert list(table.dosages.index) == [f"{f}_{i}" for f, i in zip(GENO["fid"], GENO["iid"])]


def test_plink_maf_filter(plink_prefix):
    table = load_plink(plink_prefix, min_maf=0.05, impute="none")
    dropped = [GENO["rsid"][MONO], GENO["rsid"][LOW_MAF]]
    assert table.n_dropped_maf == 2
    assert table.n_dropped_missing == 0
    assert list(table.dosages.columns) == [s for s in GENO["rsid"] if s not in dropped]
    # MAF exactly at the threshold is kept: 1/24 < 0.05 dropped, but min_maf=1/24 keeps it.
    assert load_plink(plink_prefix, min_maf=1 / 24).n_dropped_maf == 1


def test_plink_missing_filter(plink_prefix):
    table = load_plink(plink_prefix, max_missing=0.5, impute="none")
    assert table.n_dropped_missing == 1
    assert table.n_dropped_maf == 0
    assert GENO["rsid"][HIGH_MISSING] not in table.dosages.columns
    # 7/12 missing is kept at max_missing=7/12 (not greater), and missingness is filtered first.
    assert load_plink(plink_prefix, max_missing=7 / 12).n_dropped_missing == 0
    both = load_plink(plink_prefix, max_missing=0.5, min_maf=0.05)
    assert (both.n_dropped_missing, both.n_dropped_maf, both.dosages.shape[1]) == (1, 2, N_SNPS - 3)


def test_plink_mean_imputation(plink_prefix):
    table = load_plink(plink_prefix, max_missing=0.5)
    frame = table.dosages
    assert not frame.isna().any().any()
    assert table.n_imputed_calls == 4  # the SNP with 7 missing calls was dropped first
    raw = _expected().drop(columns=GENO["rsid"][HIGH_MISSING])
    for i, j in [(3, 5), (6, 5), (8, 9), (11, 20)]:
        snp = GENO["rsid"][j]
        assert frame.iloc[i][snp] == np.float32(np.nanmean(GENO["g"][:, j].astype(np.float64)))
    called = raw.notna()
    pd.testing.assert_frame_equal(frame[called], raw[called])
    assert frame.dtypes.eq(np.float32).all()
    full = load_plink(plink_prefix)
    assert full.n_imputed_calls == 4 + 7
    assert full.dosages[GENO["rsid"][HIGH_MISSING]].iloc[4] == np.float32(np.nanmean(GENO["g"][:, HIGH_MISSING]))


def test_plink_impute_none_keeps_nan(plink_prefix):
    table = load_plink(plink_prefix, impute="none")
    assert int(table.dosages.isna().sum().sum()) == 4 + 7
    assert table.n_imputed_calls == 0


def test_summary_and_log(plink_prefix, caplog):
    with caplog.at_level(logging.INFO, logger="deepgami.genotypes"):
        table = load_plink(plink_prefix, min_maf=0.05, max_missing=0.5)
    summary = table.summary()
    assert summary == "12 samples x 27 SNPs; dropped 2 SNPs by MAF, 1 by missingness; imputed 4 missing calls"
    assert summary in caplog.text


def test_plink_snp_without_calls_is_dropped_with_warning(tmp_path):
    geno = dict(GENO, g=GENO["g"].copy())
    geno["g"][:, 7] = np.nan
    prefix = _write_plink(tmp_path / "nocalls", geno)
    with pytest.warns(UserWarning, match="1 SNPs without any call"):
        table = load_plink(prefix)
    assert table.n_dropped_missing == 1
    assert GENO["rsid"][7] not in table.dosages.columns


@pytest.mark.parametrize("absent", [".bed", ".bim", ".fam"])
def test_plink_missing_file(plink_prefix, absent):
    (plink_prefix.parent / f"cohort{absent}").unlink()
    message = _one_line_error("is missing", load_plink, plink_prefix)
    assert f"cohort{absent}" in message
    assert all(f"cohort{other}" not in message for other in {".bed", ".bim", ".fam"} - {absent})


def test_plink_not_a_bed(plink_prefix):
    (plink_prefix.parent / "cohort.bed").write_bytes(b"not a bed file at all")
    _one_line_error("is not a PLINK 1 .bed file", load_plink, plink_prefix)


def test_plink_malformed_fam(plink_prefix):
    (plink_prefix.parent / "cohort.fam").write_text("fam0 s00 0 0\n")
    _one_line_error("could not be read", load_plink, plink_prefix)


def test_plink_bed_size_mismatch(plink_prefix):
    with open(plink_prefix.parent / "cohort.bim", "a") as handle:
        handle.write("2\trs_extra\t0\t9999\tA\tC\n")
    _one_line_error("imply", load_plink, plink_prefix)


def test_plink_no_snp_left(plink_prefix):
    message = _one_line_error("no SNP left", load_plink, plink_prefix, min_maf=0.5, max_missing=0.05)
    assert "30 read, 4 removed by max_missing=0.05" in message
    assert "26 by min_maf=0.5" in message
    assert "relax" in message


def test_plink_duplicate_snp_ids(tmp_path):
    sid = list(GENO["rsid"])
    sid[12] = sid[11]
    prefix = _write_plink(tmp_path / "dup", sid=sid)
    message = _one_line_error("SNP ids repeat", load_plink, prefix)
    assert "snp_id='chr_pos_ref_alt'" in message
    assert load_plink(prefix, snp_id="chr_pos_ref_alt").dosages.shape == (N_SAMPLES, N_SNPS)


def test_plink_duplicate_sample_ids(tmp_path):
    iid = list(GENO["iid"])
    iid[1] = iid[0]  # the same IID twice within family fam0: not unique either way
    prefix = _write_plink(tmp_path / "dupsamples", iid=iid)
    _one_line_error("sample_id='fid_iid'", load_plink, prefix)
    _one_line_error("sample ids repeat", load_plink, prefix, sample_id="fid_iid")
    iid = list(GENO["iid"])
    iid[2] = iid[0]  # families fam0 and fam1 differ, so fid_iid is unique
    prefix = _write_plink(tmp_path / "dupsamples2", iid=iid)
    assert load_plink(prefix, sample_id="fid_iid").dosages.index.is_unique


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"snp_id": "name"}, "snp_id must be one of"),
        ({"impute": "median"}, "impute must be one of"),
        ({"min_maf": 0.7}, "min_maf must lie in"),
        ({"max_missing": -0.1}, "max_missing must lie in"),
        ({"sample_id": "fid"}, "sample_id must be one of"),
    ],
)
def test_plink_bad_options(plink_prefix, option, match):
    _one_line_error(match, load_plink, plink_prefix, **option)


# -- VCF ----------------------------------------------------------------------------------------


def test_vcf_dosages_exact(vcf_path):
    table = _load_vcf(vcf_path, impute="none")
    assert table.n_skipped_multiallelic == 1
    assert "skipped 1 multi-allelic sites" in table.summary()
    pd.testing.assert_frame_equal(table.dosages, _expected())  # rsid, '.' falls back to chr_pos_ref_alt
    assert all(isinstance(i, str) for i in table.dosages.index)


def test_vcf_chr_pos_ref_alt(vcf_path):
    table = _load_vcf(vcf_path, snp_id="chr_pos_ref_alt")
    assert list(table.dosages.columns) == GENO["cpra"]


def test_vcf_partial_and_haploid_calls(tmp_path):
    lines = _vcf_lines(multiallelic=False)[:5]
    calls = ["./1", "0/.", ".", "1", "0", "1|1", *["0/1"] * (N_SAMPLES - 6)]
    lines.append("\t".join(["1", "50", "rsx", "A", "G", ".", ".", ".", "GT", *calls]))
    table = load_vcf(_write_vcf(tmp_path / "partial.vcf", lines), impute="none")
    np.testing.assert_array_equal(table.dosages["rsx"].to_numpy()[:6], [np.nan, np.nan, np.nan, 1, 0, 2])


def test_vcf_filters_and_imputation_match_plink(vcf_path, plink_prefix):
    for kwargs in [{"impute": "none"}, {}, {"min_maf": 0.05, "max_missing": 0.5}]:
        for snp_id in ["rsid", "chr_pos_ref_alt"]:
            from_vcf = _load_vcf(vcf_path, snp_id=snp_id, **kwargs)
            from_plink = load_plink(plink_prefix, snp_id=snp_id, **kwargs)
            pd.testing.assert_frame_equal(from_vcf.dosages, from_plink.dosages)
            counts = ("n_dropped_maf", "n_dropped_missing", "n_imputed_calls")
            assert [getattr(from_vcf, c) for c in counts] == [getattr(from_plink, c) for c in counts]


def test_vcf_samples_subset_in_requested_order(vcf_path):
    wanted = ["s05", "s00", "s11"]
    table = _load_vcf(vcf_path, impute="none", samples=wanted)
    pd.testing.assert_frame_equal(table.dosages, _expected().loc[wanted])


def test_vcf_samples_errors(vcf_path):
    _one_line_error("not in", load_vcf, vcf_path, samples=["s00", "nobody"])
    _one_line_error("twice", load_vcf, vcf_path, samples=["s00", "s00"])
    _one_line_error("samples is empty", load_vcf, vcf_path, samples=[])
    _one_line_error("a list of sample names", load_vcf, vcf_path, samples="s00")


def test_vcf_missing_file(tmp_path):
    _one_line_error("does not exist", load_vcf, tmp_path / "absent.vcf")


def test_vcf_not_a_vcf(tmp_path):
    path = tmp_path / "table.vcf"
    path.write_text("sample,snp1\na,0\n")
    _one_line_error("is not a readable VCF or BCF file", load_vcf, path)


def test_vcf_without_samples_or_gt(tmp_path):
    lines = [line.split("\t")[:8] for line in _vcf_lines(multiallelic=False)[4:]]
    header = _vcf_lines()[:4]
    sites_only = _write_vcf(tmp_path / "sites.vcf", header + ["\t".join(f) for f in lines])
    _one_line_error("has no sample columns", load_vcf, sites_only)
    no_gt = _vcf_lines(multiallelic=False)[:5]
    no_gt.insert(4, '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">')
    no_gt.append("\t".join(["1", "50", "rsx", "A", "G", ".", ".", ".", "DP", *["3"] * N_SAMPLES]))
    _one_line_error("has no GT field", load_vcf, _write_vcf(tmp_path / "nogt.vcf", no_gt))


def test_vcf_no_snp_left(vcf_path):
    with pytest.warns(UserWarning, match="multi-allelic"):
        message = _one_line_error("no SNP left", load_vcf, vcf_path, min_maf=0.5, max_missing=0.05)
    assert "1 multi-allelic sites skipped" in message
    assert "relax" in message


def test_vcf_duplicate_snp_ids(tmp_path):
    ids = list(GENO["rsid"])
    ids[12] = ids[11]
    path = _write_vcf(tmp_path / "dup.vcf", _vcf_lines(ids=ids, multiallelic=False))
    _one_line_error("use snp_id='chr_pos_ref_alt'", load_vcf, path)
    assert load_vcf(path, snp_id="chr_pos_ref_alt").dosages.shape == (N_SAMPLES, N_SNPS)


@pytest.mark.parametrize("mode", ["wz", "wb"])  # bgzipped VCF and BCF, written by cyvcf2 itself
def test_vcf_compressed_and_bcf(vcf_path, tmp_path, mode):
    from cyvcf2 import VCF, Writer

    out = tmp_path / ("cohort.vcf.gz" if mode == "wz" else "cohort.bcf")
    reader = VCF(str(vcf_path))
    writer = Writer(str(out), reader, mode=mode)
    for variant in reader:
        writer.write_record(variant)
    writer.close()
    reader.close()
    pd.testing.assert_frame_equal(_load_vcf(out, impute="none").dosages, _expected())


def test_plink_int8_keeps_one_byte_per_call_and_the_same_filters(plink_prefix):
    compact = load_plink(plink_prefix, max_missing=0.5, min_maf=0.05, impute="none", dtype="int8")
    reference = load_plink(plink_prefix, max_missing=0.5, min_maf=0.05, impute="none")
    values = compact.dosages.to_numpy()
    assert values.dtype == np.int8 and values.flags.c_contiguous
    assert (compact.n_dropped_missing, compact.n_dropped_maf) == (reference.n_dropped_missing, reference.n_dropped_maf)
    assert list(compact.dosages.columns) == list(reference.dosages.columns)
    as_float = np.where(values == MISSING_INT8, np.nan, values).astype(np.float32)
    np.testing.assert_array_equal(as_float, reference.dosages.to_numpy())


def test_plink_int8_refuses_mean_imputation(plink_prefix):
    with pytest.raises(InputError, match="impute='none'"):
        load_plink(plink_prefix, dtype="int8")
