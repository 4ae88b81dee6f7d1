#!/usr/bin/env bash
# The GPU benchmark on a machine without internet (docs/benchmarks/README.md).
#
#   tools/gpu_bench.sh check        which of the suite's packages this Python lacks
#   tools/gpu_bench.sh [run] [OUT]  check, then tools/benchmark.py --suite gpu under a time
#                                   limit; writes OUT (default: $OUT/train_gpu.json when $OUT is
#                                   set, else docs/benchmarks/train_gpu.json) and OUT's .log
#
# Environment: PYTHON (default python3), GPU_CARRY (the folder tools/gpu_carry.py built, default
# gpu_carry), GPU_BENCH_LIMIT (seconds, default 470). Carried packages are used only where the
# machine lacks them: its own torch, numpy, ... always win. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
CARRY=${GPU_CARRY:-gpu_carry}
LIMIT=${GPU_BENCH_LIMIT:-470}
MODE=${1:-run}
case "$MODE" in
  check | run) ;;
  *) echo "usage: tools/gpu_bench.sh [check | run [OUT]]" >&2; exit 2 ;;
esac
RESULT=${2:-${OUT:+$OUT/train_gpu.json}}
RESULT=${RESULT:-docs/benchmarks/train_gpu.json}

# The carried packages (pure.zip and wheels/*.whl of tools/gpu_carry.py) unpacked, and those
# this Python does not have linked into one folder for PYTHONPATH.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LINKS=$WORK/links
mkdir -p "$WORK/site" "$LINKS"
for archive in "$CARRY"/pure.zip "$CARRY"/wheels/*.whl; do
  [ -f "$archive" ] && "$PY" -m zipfile -e "$archive" "$WORK/site"
done
"$PY" - "$WORK/site" "$LINKS" <<'EOF'
import importlib.util, os, sys

carry, links = sys.argv[1:]
entries = sorted(os.listdir(carry)) if os.path.isdir(carry) else []
for entry in entries:
    name = entry.split(".")[0].split("-")[0]
    shared_libs = entry.endswith(".libs")  # bundled libraries of a compiled wheel
    if entry.endswith((".dist-info", ".data")):
        continue
    if shared_libs or importlib.util.find_spec(name) is None:
        os.symlink(os.path.abspath(os.path.join(carry, entry)), os.path.join(links, entry))
# Metadata of what was linked (packages that read their own version).
linked = {e.split(".")[0].lower() for e in os.listdir(links)}
for entry in entries:
    if entry.endswith(".dist-info") and entry.split("-")[0].lower() in linked:
        os.symlink(os.path.abspath(os.path.join(carry, entry)), os.path.join(links, entry))
EOF
export PYTHONPATH="$PWD:$LINKS${PYTHONPATH:+:$PYTHONPATH}"

echo "== python $("$PY" -c 'import sys; print(sys.version.split()[0])'), carried: $(ls "$LINKS" | grep -v dist-info | tr '\n' ' ')"
# module -> pip distribution, for the message on what to carry.
if ! "$PY" - <<'EOF'
import importlib

MODULES = {
    "torch": "torch", "torchvision": "torchvision (the build matching torch)",
    "numpy": "numpy", "PIL": "pillow", "av": "av", "scipy": "scipy",
    "sklearn.cluster": "scikit-learn", "pycocotools.mask": "pycocotools",
    "safetensors": "safetensors", "yaml": "pyyaml", "detectron2.engine": "sal-detectron2",
    "fvcore": "fvcore", "iopath": "iopath", "timm": "timm", "tabulate": "tabulate",
}  # fmt: skip
# Compiled distributions: tools/gpu_carry.py copies the others from the virtualenv by itself.
COMPILED = {"torchvision", "numpy", "pillow", "av", "scipy", "scikit-learn", "pycocotools",
            "safetensors"}  # fmt: skip
missing = []
for module, dist in MODULES.items():
    try:
        importlib.import_module(module)
    except Exception as e:  # noqa: BLE001  (a broken package is as missing as an absent one)
        print(f"missing {module} ({dist}): {type(e).__name__}: {e}")
        missing.append(dist.split()[0])
if missing:
    print(
        "On a machine with the project's virtualenv and the package index, build the carry "
        "folder and copy it here as $GPU_CARRY:\n  python tools/gpu_carry.py gpu_carry "
        f"--python X.Y --wheels {' '.join(sorted(set(missing) & COMPILED))}"
    )
    raise SystemExit(1)
import torch

print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, devices {torch.cuda.device_count()}")
EOF
then
  exit 1
fi
"$PY" tools/benchmark.py --suite gpu --dry-run
[ "$MODE" = check ] && exit 0

mkdir -p "$(dirname "$RESULT")"
LOG="${RESULT%.json}.log"
echo "== tools/benchmark.py --suite gpu --out $RESULT (limit ${LIMIT}s, log $LOG)"
set +e
timeout "$LIMIT" "$PY" tools/benchmark.py --suite gpu --out "$RESULT" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
if [ "$status" = 124 ]; then
  echo "gpu_bench: stopped after ${LIMIT}s (GPU_BENCH_LIMIT); see $LOG" >&2
fi
exit "$status"
