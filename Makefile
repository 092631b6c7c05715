# pennfudan-vit: the three commands of the README, and a few more.
PY      ?= .venv/bin/python
SRC     ?= ../shared/data/PennFudanPed
DATA    ?= data/pennfudan
PYTEST_ARGS ?=

.PHONY: setup demo test test-all data train lint help

help:
	@echo "make setup   - create .venv with torch, mmcv (built), mmdet, mmpretrain, plugin (~25 min cold, ~2 min warm)"
	@echo "make demo    - CPU main job: convert data, train the CPU config, test, curves, grid (~15 min on 2 cores)"
	@echo "make test    - fast test suite (what CI runs)"
	@echo "make test-all - also the slow tests"

setup:
	bash tools/setup_env.sh

demo:
	SRC=$(SRC) DATA=$(DATA) PY=$(PY) bash tools/demo_cpu.sh

data:
	$(PY) data_prep/pennfudan_to_coco.py --src $(SRC) --out $(DATA) --folds 5

test:
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all:
	$(PY) -m pytest $(PYTEST_ARGS)
