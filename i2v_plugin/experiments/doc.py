"""The generated regions of ``docs/RESULTS.md``: each sits between ``<!-- <region>:begin -->``
and ``<!-- <region>:end -->``; the text around them is written by hand and kept. With the
results region goes its figure, ``figures/gap_closed.png`` beside the page."""

import os

from .figure import FIGURE_NAME, write_gap_figure
from .manifest import Manifest
from .overview import render_overview
from .render import render_paper_table, render_results, render_tuning


def markers(region: str) -> tuple[str, str]:
    return f"<!-- {region}:begin -->", f"<!-- {region}:end -->"


def replace_region(text: str, region: str, body: str, append: bool) -> str:
    """``text`` with ``region``'s content replaced by ``body`` (appended at the end when the
    markers are absent and ``append``; else unchanged)."""
    begin, end = markers(region)
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n" if append else text


def update_doc(doc_path: str, runs: list[dict], manifest: Manifest, region="results") -> None:
    """Rewrite ``region`` ("results" or "tuning") of ``doc_path`` (appended if absent); with
    "results", also the "overview" region and every "table<N>" region the doc already has, and
    the figure of the gap closed (``figure.FIGURE_NAME`` beside the doc) when any row has a
    share."""
    text = open(doc_path).read() if os.path.exists(doc_path) else "# Results\n"
    if region == "tuning":
        text = replace_region(text, "tuning", render_tuning(runs), append=True)
    else:
        text = replace_region(text, "results", render_results(runs, manifest), append=True)
        text = replace_region(text, "overview", render_overview(runs, manifest), append=False)
        for number in manifest.tables:
            body = render_paper_table(runs, manifest, number)
            text = replace_region(text, f"table{number}", body, append=False)
        figure_path = os.path.join(os.path.dirname(os.path.abspath(doc_path)), FIGURE_NAME)
        write_gap_figure(runs, manifest, figure_path)
    with open(doc_path, "w") as f:
        f.write(text)
