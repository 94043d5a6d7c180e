"""Every example of the README runs as written: its commands parse, its configs validate, its Python runs."""

from __future__ import annotations

import re
import shlex
import tomllib
import warnings
from pathlib import Path

import anndata
import mudata
import pandas as pd
import pytest

from deepgami.cli import build_parser
from deepgami.config import parse_config
from deepgami.simulate import simulate_cohort

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks of one language, in order."""
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def deepgami_commands() -> list[list[str]]:
    """The arguments of every `deepgami ...` (or `torchrun ... -m deepgami ...`) command line."""
    commands = []
    for block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            words = shlex.split(line) if line else []
            if words[:1] == ["deepgami"]:
                commands.append(words[1:])
            elif "-m" in words and words[words.index("-m") + 1 : words.index("-m") + 2] == ["deepgami"]:
                commands.append(words[words.index("-m") + 2 :])
    return commands


def test_the_readme_commands_parse():
    commands = deepgami_commands()
    assert {c[0] for c in commands} >= {"fit", "predict", "explain", "cv"}
    parser = build_parser()
    for arguments in commands:
        parser.parse_args(arguments)  # exits (fails the test) on an unknown command or option


def test_the_readme_config_tables_validate(tmp_path):
    config, targets, cv_tables = blocks("toml")
    parsed = parse_config(tomllib.loads(config + cv_tables), tmp_path)
    assert [m.name for m in parsed.modalities] == ["snp", "tf"] and parsed.estimator_params["n_members"] == 10
    assert parsed.cv["methods"] and parsed.search and parsed.preprocessing
    several = parse_config(tomllib.loads(targets), tmp_path)
    assert several.task == "multi" and [t.name for t in several.targets] == ["trait", "status", "os"]
    assert several.targets[2].columns() == ["os_days", "os_event"] and several.covariates is not None


@pytest.fixture()
def mdata():
    """The MuData the README's scverse example names: one modality per table, labels in obs["subtype"]."""
    cohort = simulate_cohort(n_samples=60, n_snps=80, n_tfs=8, n_genes=16, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # mudata's notice about .update() defaults
        modalities = {m: anndata.AnnData(t.to_numpy(), obs=pd.DataFrame(index=t.index), var=pd.DataFrame(index=t.columns))
                      for m, t in cohort.modalities.items()}
        data = mudata.MuData(modalities)
    data.obs["subtype"] = cohort.labels.reindex(data.obs_names).to_numpy()
    return data


def test_the_readme_python_runs(mdata, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples save models into the working directory
    for block in blocks("python"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            exec(compile(block, "README.md", "exec"), {"mdata": mdata})  # noqa: S102
    assert "deepgami_predicted" in mdata.obs
