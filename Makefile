# pennfudan-vit: the three commands of the README, and a few more.
PY      ?= .venv/bin/python
# the dataset: SRC=/path/to/PennFudanPed(.zip), else $PENNFUDAN_SRC, else data/, else download
SRC     ?=
FP32    ?=
DATA    ?= data/pennfudan
PYTEST_ARGS ?=

.PHONY: setup demo test test-all data help

help:
	@echo "make setup    - create .venv with torch, mmcv (built), mmdet, mmpretrain, plugin"
	@echo "make demo     - CPU main job: convert data, train the CPU config, test, curves, grid"
	@echo "                (bf16 on a CPU with bf16 units, else fp32; FP32=1: fp32 everywhere)"
	@echo "make test     - fast test suite (what CI runs)"
	@echo "make test-all - also the slow tests"
	@echo "make data     - convert Penn-Fudan to COCO JSON in $(DATA) (with 5 folds)"

setup:
	bash tools/setup_env.sh

demo:
	SRC=$(SRC) DATA=$(DATA) PY=$(PY) FP32=$(FP32) bash tools/demo_cpu.sh

data:
	$(PY) data_prep/pennfudan_to_coco.py $(if $(SRC),--src $(SRC)) --out $(DATA) --folds 5 --overwrite

test:
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all:
	$(PY) -m pytest $(PYTEST_ARGS)
