# i2v_plugin: environment, tests and the demo.
#   make test       build .venv if needed, run ruff (format check + lint) and every test
#   make test-fast  ruff and the tests not marked slow (the inner loop: under 90 s)
#   make demo    build .venv if needed, prepare the synthetic benchmark, train and evaluate
#                (AMP=bf16: bfloat16 autocast, CPU or GPU; AMP=fp16: float16, GPU only)
#   make lint / make format
# The virtualenv is built from nothing on first use and rebuilt only when the
# pinned requirements (requirements*.txt, setup.py) change.

PYTHON ?= python3.10
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Free space a new virtualenv needs (GiB): the CUDA build of torch from PyPI, unpacked.
VENV_NEED_GIB ?= 8
export DETECTRON2_DATASETS ?= $(CURDIR)/datasets
DEMO_CONFIG ?= configs/synthetic/swin_clustered.yaml
DEMO_OUTPUT ?= output/demo
# The demo evaluates the source domain, the calibrated videos and the sealed artefacts (the
# configs' other splits: style, geometry, severe; drop DEMO_TEST= to evaluate all six).
DEMO_TEST ?= DATASETS.TEST "('i2v_synth_images_val', 'i2v_synth_videos_val', 'i2v_synth_videos_sealed_val')"
# Mixed precision of the demo: empty (float32), bf16 or fp16 (SOLVER.AMP, see README).
AMP ?=
AMP_OPTS_bf16 := SOLVER.AMP.ENABLED True SOLVER.AMP.PRECISION bfloat16
AMP_OPTS_fp16 := SOLVER.AMP.ENABLED True SOLVER.AMP.PRECISION float16
AMP_OPTS := $(if $(AMP),$(or $(AMP_OPTS_$(AMP)),$(error AMP must be bf16 or fp16, got '$(AMP)')))

# pip prints one warning per package for index folders that lack it; drop those lines only.
# No wheel cache: it would hold a second copy of the several-GiB CUDA wheels.
PIP := $(VPY) -m pip install --quiet --no-cache-dir
QUIET_PIP := { grep -v "is ignored: it is neither a file nor a directory" || true; }
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: venv test test-fast lint format demo clean-venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt setup.py
	@py=$$(scripts/find_python.sh "$(PYTHON)") || exit 1; \
	if [ -x "$(VPY)" ] && ! "$(VPY)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
		echo "Removing $(VENV): not Python 3.10"; rm -rf "$(VENV)"; fi; \
	if [ ! -x "$(VPY)" ]; then scripts/check_disk.sh "$(dir $(VENV))" $(VENV_NEED_GIB) || exit 1; \
		echo "Creating $(VENV) with $$py"; "$$py" -m venv "$(VENV)" || exit 1; fi
	$(PIP) --upgrade "pip<26" 2>&1 | $(QUIET_PIP)
	$(PIP) -r requirements-dev.txt 2>&1 | $(QUIET_PIP)
	$(PIP) --no-deps --no-build-isolation -e . 2>&1 | $(QUIET_PIP)
	@touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(VPY) -m pytest -q tests

test-fast: lint
	$(VPY) -m pytest -q -m "not slow" tests

demo: $(STAMP)
	$(VPY) datasets/prepare_synthetic.py
	$(VPY) tools/train_net.py --config-file $(DEMO_CONFIG) OUTPUT_DIR $(DEMO_OUTPUT) $(DEMO_TEST) $(AMP_OPTS)

clean-venv:
	rm -rf $(VENV)
