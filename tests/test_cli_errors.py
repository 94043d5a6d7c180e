"""Bad input through the CLI: one clear line on stderr, exit code 2, and no output left behind.

Every case runs ``deepgami.cli.main`` (or, for a few, the installed ``deepgami`` script) on
a small simulated cohort in which one thing has been broken, and checks that the user gets a
single ``deepgami: error: ...`` line naming the problem, no traceback, and no run folder,
predictions file or staging folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from deepgami.cli import main
from deepgami.simulate import CONFIG_TEMPLATE, simulate_cohort

COHORT = dict(n_samples=80, n_snps=200, n_tfs=20, n_genes=40, seed=0)
FAST_TRAINING = "\n[training]\nmax_epochs = 2\n"
GOOD_CONFIG = CONFIG_TEMPLATE + FAST_TRAINING
SCRIPT = Path(sys.executable).with_name("deepgami")


# ----------------------------------------------------------------------------- helpers
def write_cohort(cohort, folder: Path, config: str = GOOD_CONFIG) -> Path:
    """Write the cohort's tables and ``config`` (TOML text) into ``folder``; return the config path."""
    path = cohort.write(folder)
    path.write_text(config)
    return path


def edit_csv(path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Rewrite a CSV through ``edit``; cells are read and written as the exact strings in the file."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``deepgami <argv>`` in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_script(*argv) -> tuple[int, str, str]:
    """Run the installed ``deepgami`` console script; return (exit code, stdout, stderr)."""
    done = subprocess.run([str(SCRIPT), *map(str, argv)], capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def leftovers(out: Path) -> list[str]:
    """Anything a failed command left behind for the output path ``out``."""
    found = [out.name] if out.exists() else []
    if out.parent.is_dir():
        found += [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") or p.name.endswith(".tmp")]
    return found


def assert_clean_error(code: int, stdout: str, stderr: str, out: Path, *expected: str) -> str:
    """The CLI failed as a user error: exit 2, one stderr line naming the problem, nothing written."""
    assert "Traceback" not in stdout + stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{stderr}"
    message = lines[0]
    assert message.startswith("deepgami: error: "), message
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert code == 2, f"exit code {code}; stderr: {stderr}"
    assert leftovers(out) == [], f"left behind: {leftovers(out)}"
    return message


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def cli_cohort():
    return simulate_cohort(**COHORT)


@pytest.fixture
def data(cli_cohort, tmp_path) -> Path:
    """A folder holding the good cohort tables and a fast config.toml."""
    folder = tmp_path / "cohort"
    write_cohort(cli_cohort, folder)
    return folder


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "run"


def fit(capsys, data: Path, out: Path, config: str | None = None) -> tuple[int, str, str]:
    """``deepgami fit`` on ``data``, optionally with a replaced config.toml text."""
    if config is not None:
        (data / "config.toml").write_text(config)
    return run_cli(capsys, "fit", data / "config.toml", "--out", out)


@pytest.fixture(scope="module")
def trained_run(cli_cohort, tmp_path_factory) -> Path:
    """A run folder fitted once from the good config, for the predict cases."""
    root = tmp_path_factory.mktemp("trained")
    config = write_cohort(cli_cohort, root / "cohort")
    run = root / "run"
    assert main(["-q", "fit", str(config), "--out", str(run)]) == 0
    return run


# ----------------------------------------------------------------------------- positive control
def test_good_config_fits(capsys, data, out):
    code, stdout, stderr = fit(capsys, data, out)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert {"metrics.json", "predictions.csv", "model", "config.toml"} <= {p.name for p in out.iterdir()}
    assert (out / "model").is_dir()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".run.")] == []
    assert "metrics.json" in stdout


# ----------------------------------------------------------------------------- modality files
def test_missing_modality_file(capsys, data, out):
    (data / "tf.csv").unlink()
    assert_clean_error(*fit(capsys, data, out), out, "tf.csv", "does not exist")


def test_every_missing_file_is_named_at_once(capsys, data, out):
    for name in ("tf.csv", "snp.csv", "grn.csv"):
        (data / name).unlink()
    message = assert_clean_error(*fit(capsys, data, out), out, "3 files do not exist", "resolve against the config file's folder")
    for name in ("modality 'snp' file", "snp.csv", "modality 'tf' file", "tf.csv", "edge table", "grn.csv"):
        assert name in message


def test_a_transposed_table_is_named_and_can_be_declared(capsys, data, out):
    tf = pd.read_csv(data / "tf.csv", index_col=0)
    tf.T.to_csv(data / "tf.csv")  # features as rows
    assert_clean_error(*fit(capsys, data, out), out, "modality 'tf' looks transposed", 'orientation = "features_by_samples"')
    config = GOOD_CONFIG.replace('path = "tf.csv"\n', 'path = "tf.csv"\norientation = "features_by_samples"\n')
    assert "features_by_samples" in config
    assert fit(capsys, data, out, config)[0] == 0


@pytest.mark.parametrize(
    ("rename", "hint"),
    [
        pytest.param(lambda ids: ids + "-01A", "differ by a suffix", id="aliquot-suffix"),
        pytest.param(lambda ids: ids.str.lower(), "differ only in upper/lower case", id="case"),
    ],
)
def test_id_mismatch_shows_both_sides_and_the_likely_cause(capsys, data, out, rename, hint):
    def edit(frame):
        frame["sample"] = rename(frame["sample"])
        return frame

    edit_csv(data / "tf.csv", edit)
    assert_clean_error(*fit(capsys, data, out), out, "no sample of modality 'tf' matches", "ids of the labels e.g. S0000", hint)


@pytest.mark.parametrize(
    ("content", "problem"),
    [pytest.param("", "empty", id="zero-bytes"), pytest.param("sample,TF000,TF001\n", "no rows", id="header-only")],
)
def test_empty_modality_file(capsys, data, out, content, problem):
    (data / "tf.csv").write_text(content)
    assert_clean_error(*fit(capsys, data, out), out, "tf.csv", problem)


def test_non_numeric_value(capsys, data, out):
    def poison(frame):
        frame.loc[3, "TF005"] = "abc"
        return frame

    edit_csv(data / "tf.csv", poison)
    assert_clean_error(*fit(capsys, data, out), out, "'tf'", "non-numeric", "TF005", "abc")


def blank_some_snp_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Blank one cell in each of the first 10 samples, so some fall in the training rows."""
    for row in range(10):
        frame.iloc[row, 1 + 7 * row] = ""
    return frame


def test_nan_in_modality_is_an_error_by_default(capsys, data, out):
    edit_csv(data / "snp.csv", blank_some_snp_cells)
    assert_clean_error(*fit(capsys, data, out), out, "'snp'", "missing values", 'missing = "mean"')


def test_nan_in_modality_trains_with_mean_imputation(capsys, data, out):
    edit_csv(data / "snp.csv", blank_some_snp_cells)
    config = GOOD_CONFIG.replace('path = "snp.csv"\n', 'path = "snp.csv"\nmissing = "mean"\n')
    assert 'missing = "mean"' in config
    code, _, stderr = fit(capsys, data, out, config)
    assert code == 0, stderr
    assert (out / "metrics.json").is_file()


def test_duplicate_sample_ids(capsys, data, out):
    def duplicate(frame):
        frame.loc[5, "sample"] = frame.loc[4, "sample"]
        return frame

    edit_csv(data / "snp.csv", duplicate)
    assert_clean_error(*fit(capsys, data, out), out, "'snp'", "duplicate sample ids", "S0004")


def test_no_sample_shared_with_labels(capsys, data, out):
    def rename(frame):
        frame["sample"] = "X" + frame["sample"]
        return frame

    edit_csv(data / "tf.csv", rename)
    assert_clean_error(*fit(capsys, data, out), out, "modality 'tf'", "XS0000")


# ----------------------------------------------------------------------------- labels
def test_single_class_labels(capsys, data, out):
    def one_class(frame):
        frame["label"] = "case"
        return frame

    edit_csv(data / "labels.csv", one_class)
    assert_clean_error(*fit(capsys, data, out), out, "single class", "'case'")


def test_a_column_name_with_a_leading_space_shows_it(capsys, data, out):
    labels = data / "labels.csv"
    labels.write_text(labels.read_text().replace("sample,label", "sample, label", 1))
    assert_clean_error(*fit(capsys, data, out), out, "no column 'label'", "(columns: 'sample', ' label')")


def test_labels_without_label_column(capsys, data, out):
    edit_csv(data / "labels.csv", lambda frame: frame.rename(columns={"label": "phenotype"}))
    assert_clean_error(*fit(capsys, data, out), out, "labels.csv", "'label'", "label_column")


# ----------------------------------------------------------------------------- edge tables
def test_edge_table_with_wrong_columns(capsys, data, out):
    edit_csv(data / "eqtl.csv", lambda frame: frame.rename(columns={"source": "from", "target": "to"}))
    assert_clean_error(*fit(capsys, data, out), out, "eqtl.csv", "'source'", "from")


def test_edge_sources_match_no_feature(capsys, data, out):
    def rename(frame):
        frame["source"] = "chr1:" + frame["source"]
        return frame

    edit_csv(data / "eqtl.csv", rename)
    assert_clean_error(*fit(capsys, data, out), out, "eqtl.csv", "'snp'", "chr1:rs")


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param("epochs = 3\n", ("'epochs'", "[training]", "did you mean 'max_epochs'"), id="training-key"),
        pytest.param("\n[trainng]\nlr = 0.01\n", ("'trainng'", "did you mean 'training'"), id="top-level-table"),
    ],
)
def test_unknown_config_key(capsys, data, out, extra, expected):
    assert_clean_error(*fit(capsys, data, out, GOOD_CONFIG + extra), out, *expected)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        pytest.param('"error"', ("features without a prior edge", "snp: ", "unconnected_features"), id="refused"),
        pytest.param('"keep"', ("'unconnected_features' parameter", "'dense'", "'keep'"), id="unknown-value"),
    ],
)
def test_features_without_prior_edges(capsys, data, out, setting, expected):
    config = GOOD_CONFIG + f"\n[model]\nunconnected_features = {setting}\n"
    assert_clean_error(*fit(capsys, data, out, config), out, *expected)


def test_an_out_folder_with_files_is_refused_unless_overwrite(capsys, data, out):
    out.mkdir()  # an empty folder is fine
    assert main(["-q", "fit", str(data / "config.toml"), "--out", str(out)]) == 0
    before = sorted(p.name for p in out.iterdir())
    code, stdout, stderr = run_cli(capsys, "fit", data / "config.toml", "--out", out)
    assert "Traceback" not in stderr and code == 2 and len(stderr.splitlines()) == 1
    assert "already holds" in stderr and "metrics.json" in stderr and "--overwrite" in stderr
    assert sorted(p.name for p in out.iterdir()) == before
    assert main(["-q", "fit", str(data / "config.toml"), "--out", str(out), "--overwrite"]) == 0


def test_config_file_missing(capsys, tmp_path, out):
    assert_clean_error(*run_cli(capsys, "fit", tmp_path / "nope.toml", "--out", out), out, "nope.toml", "does not exist")


def test_config_invalid_toml(capsys, data, out):
    message = assert_clean_error(*fit(capsys, data, out, GOOD_CONFIG + "\n[split\nseed = 1\n"), out, "config.toml")
    assert "TOML" in message


def test_test_ids_match_no_sample(capsys, data, out):
    (data / "test_ids.txt").write_text("nobody1\nnobody2\n")
    config = GOOD_CONFIG.replace("[split]\n", '[split]\ntest_ids = "test_ids.txt"\n')
    assert_clean_error(*fit(capsys, data, out, config), out, "test_ids.txt", "nobody1")


# ----------------------------------------------------------------------------- predict
def test_predict_unknown_modality(capsys, trained_run, data, tmp_path):
    out = tmp_path / "pred" / "predictions.csv"
    result = run_cli(capsys, "predict", trained_run, "--modality", f"rna={data / 'tf.csv'}", "--out", out)
    assert_clean_error(*result, out, "rna", "snp", "tf")
    assert not out.parent.exists()


def test_predict_table_lacking_features(capsys, trained_run, data, tmp_path):
    edit_csv(data / "tf.csv", lambda frame: frame.drop(columns=["TF003", "TF007"]))
    out = tmp_path / "pred" / "predictions.csv"
    result = run_cli(capsys, "predict", trained_run, "--modality", f"tf={data / 'tf.csv'}", "--out", out)
    assert_clean_error(*result, out, "'tf'", "TF003", "TF007")
    assert not out.parent.exists()


@pytest.mark.parametrize("item", ["tf", "tf.csv", "=tf.csv", "tf="], ids=["name-only", "path-only", "empty-name", "empty-path"])
def test_predict_modality_without_name_and_path(capsys, trained_run, tmp_path, item):
    out = tmp_path / "predictions.csv"
    result = run_cli(capsys, "predict", trained_run, "--modality", item, "--out", out)
    assert_clean_error(*result, out, "NAME=PATH", repr(item))


# ----------------------------------------------------------------------------- the real console script
@pytest.mark.parametrize(
    ("break_data", "expected"),
    [
        pytest.param(lambda d: (d / "snp.csv").unlink(), ("snp.csv", "does not exist"), id="missing-modality"),
        pytest.param(
            lambda d: (d / "config.toml").write_text(GOOD_CONFIG + "epochs = 3\n"), ("did you mean 'max_epochs'",), id="unknown-key"
        ),
    ],
)
def test_console_script_exit_code(data, out, break_data, expected):
    break_data(data)
    assert_clean_error(*run_script("fit", data / "config.toml", "--out", out), out, *expected)
