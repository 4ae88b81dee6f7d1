"""Figure of a ``ClusterInspection``: cluster sizes, the image/video mix per cluster and a few
example maps of every cluster."""

import numpy as np
from matplotlib.figure import Figure

from .clusters import DOMAIN_NAMES, ClusterInspection

DOMAIN_COLOURS = ("tab:blue", "tab:orange")


def example_maps(inspection: ClusterInspection, cluster: int, count: int) -> list[int]:
    """Up to ``count`` map indices of ``cluster``, alternating image and video members where
    both exist, each domain's picks spread over its members."""
    picks = []
    members = [
        np.flatnonzero((inspection.labels == cluster) & (inspection.domains == d)) for d in (0, 1)
    ]
    quotas = [count // 2 + count % 2, count // 2]
    # A domain with too few members leaves its quota to the other.
    quotas = [min(q, len(m)) for q, m in zip(quotas, members)]
    spare = count - sum(quotas)
    for d in (0, 1):
        extra = min(spare, len(members[d]) - quotas[d])
        quotas[d] += extra
        spare -= extra
    spread = [m[np.linspace(0, len(m) - 1, q).round().astype(int)] for m, q in zip(members, quotas)]
    for i in range(max(quotas)):
        picks += [int(s[i]) for s in spread if i < len(s)]
    return picks


def cluster_figure(inspection: ClusterInspection, examples: int = 6) -> Figure:
    """Top: cluster sizes and stacked image/video bars; below: one row of example maps per
    cluster (titled with domain, sample and channel)."""
    k = inspection.num_clusters
    counts = inspection.domain_counts()
    fig = Figure(figsize=(max(6.0, 1.4 * examples), 3.0 + 1.25 * k), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.0, 1.25 * k])
    size_ax, mix_ax = top.subplots(1, 2)
    ids = np.arange(k)
    size_ax.bar(ids, counts.sum(1), color="tab:grey")
    size_ax.set_title(f"maps per cluster (K = {k})", fontsize=10)
    bottom_edge = np.zeros(k)
    for d, name in enumerate(DOMAIN_NAMES):
        mix_ax.bar(ids, counts[:, d], bottom=bottom_edge, color=DOMAIN_COLOURS[d], label=name)
        bottom_edge += counts[:, d]
    mix_ax.set_title("image / video maps per cluster", fontsize=10)
    mix_ax.legend(fontsize=8)
    for ax in (size_ax, mix_ax):
        ax.set_xticks(ids)
        ax.set_xlabel("cluster")
    top.suptitle(
        f"iteration {inspection.iteration}: {len(inspection.labels)} {inspection.feature} maps "
        f"of {inspection.maps.shape[1]}x{inspection.maps.shape[2]}, "
        f"inertia {inspection.inertia:.4g}",
        fontsize=10,
    )
    axes = bottom.subplots(k, examples, squeeze=False)
    for cluster in range(k):
        picks = example_maps(inspection, cluster, examples)
        for col, ax in enumerate(axes[cluster]):
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(picks):
                i = picks[col]
                ax.imshow(inspection.maps[i], cmap="viridis", interpolation="nearest")
                ax.set_title(
                    f"{DOMAIN_NAMES[inspection.domains[i]]} s{inspection.samples[i]} "
                    f"c{inspection.channels[i]}",
                    fontsize=6,
                    color=DOMAIN_COLOURS[inspection.domains[i]],
                )
            else:
                # Spines off rather than the whole axis, so the row label stays visible.
                for spine in ax.spines.values():
                    spine.set_visible(False)
        images, videos = counts[cluster]
        axes[cluster][0].set_ylabel(f"c{cluster}: {images}/{videos}", fontsize=7)
    return fig
