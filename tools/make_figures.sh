#!/usr/bin/env bash
# Regenerate the README figures under docs/figures/ from the synthetic benchmark.
#
#   tools/make_figures.sh
#   SOURCE_ONLY=output/try/source_only/model_final.pth tools/make_figures.sh
#
# Checkpoints (a missing one is skipped; at least one must exist):
#   SOURCE_ONLY  default output/synthetic/swin_source_only/model_final.pth
#   CLUSTERED    default output/synthetic/swin_clustered/model_final.pth
# Writes grid.png (val frames, ground truth, each checkpoint's prediction), curves.png (the
# clustered run's metrics.json, else the source-only run's) and clusters.png (the clustered
# loss's K-means on one training batch). Needs python datasets/prepare_synthetic.py first.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${FIGURES_DIR:-docs/figures}
SOURCE_ONLY=${SOURCE_ONLY:-output/synthetic/swin_source_only/model_final.pth}
CLUSTERED=${CLUSTERED:-output/synthetic/swin_clustered/model_final.pth}

weights=()
[ -f "$SOURCE_ONLY" ] && weights+=("source_only=$SOURCE_ONLY")
[ -f "$CLUSTERED" ] && weights+=("clustered=$CLUSTERED")
if [ ${#weights[@]} -eq 0 ]; then
    echo "make_figures: no checkpoint at $SOURCE_ONLY or $CLUSTERED; train first" >&2
    exit 1
fi
mkdir -p "$OUT"

$PY tools/visualize.py grid --config-file configs/synthetic/swin_source_only.yaml \
    --dataset i2v_synth_videos_val --num 4 --out "$OUT/grid.png" --weights "${weights[@]}"

for checkpoint in "$CLUSTERED" "$SOURCE_ONLY"; do
    metrics="$(dirname "$checkpoint")/metrics.json"
    if [ -f "$metrics" ]; then
        $PY tools/visualize.py curves "$metrics" --out "$OUT/curves.png"
        break
    fi
done

# Only the backbone feeds the clustering, so a source-only checkpoint also works here.
cluster_weights=$CLUSTERED
[ -f "$cluster_weights" ] || cluster_weights=$SOURCE_ONLY
$PY tools/visualize.py clusters --config-file configs/synthetic/swin_clustered.yaml \
    --examples 4 --out "$OUT/clusters.png" MODEL.WEIGHTS "$cluster_weights"
