"""The report's plots and tables read well: no legend covers a data point (line vertices, the lines
between them, markers, bars), tick labels do not collide, each figure fits the page's column, and
table cells say what they hold (numbers right-aligned, long hex identifiers shortened with the full
value kept). The plots are drawn from a committed full `vcp bench` result (timing spreads cut to
their medians, floats to 6 significant digits): three chains, three zk models, the longest model name."""

from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.transforms import Bbox

from vcp_toolkit.bench.plots import WIDTH_IN, DPI, figures, to_png
from vcp_toolkit.bench.report import html_table, render

FIXTURE = Path(__file__).parent / "fixtures" / "bench_full.json"
PAGE_COLUMN_PX = 1280 - 2 * 32  # the report's body at a 1280 px window (its CSS pads 32 px a side)
SAMPLES_PER_SEGMENT = 50  # points checked along each drawn line segment, so a line crossing a legend is caught


@pytest.fixture(scope="module")
def result():
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def drawn(result):
    """{name: figure}, each drawn once so legend and artist extents are final."""
    figs = figures(result)
    for fig in figs.values():
        fig.canvas.draw()
    yield figs
    for fig in figs.values():
        plt.close(fig)


def _legend_boxes(fig) -> list[Bbox]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [legend.get_window_extent() for legend in legends]


def _line_points(line) -> np.ndarray:
    """Display coordinates of a line's vertices and of points along each segment it draws."""
    xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
    xy = xy[np.isfinite(xy).all(axis=1)]
    if line.get_linestyle() in ("None", "", " ") or len(xy) < 2:
        return xy
    t = np.linspace(0.0, 1.0, SAMPLES_PER_SEGMENT)[:, None, None]
    return np.concatenate([xy, (xy[:-1] + t * (xy[1:] - xy[:-1])).reshape(-1, 2)])


def _marker_pad(line) -> float:
    """Half a marker's size in pixels: a marker whose centre is this close to a legend touches it."""
    return 0.0 if line.get_marker() in ("None", "", None) else line.get_markersize() * DPI / 72 / 2


def overlaps(fig) -> list[str]:
    """Every data point, line or bar of the figure that lies inside one of its legends."""
    found = []
    for box in _legend_boxes(fig):
        for ax in fig.axes:
            for line in ax.get_lines():
                pad = _marker_pad(line)
                grown = Bbox.from_extents(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad)
                inside = [p for p in _line_points(line) if grown.contains(*p)]
                if inside:
                    found.append(f"{line.get_label()!r}: {len(inside)} points under the legend")
            for patch in ax.patches:
                if patch.get_window_extent().overlaps(box):
                    found.append(f"bar {patch.get_label()!r} under the legend")
            for collection in ax.collections:
                offsets = collection.get_offset_transform().transform(collection.get_offsets())
                if any(box.contains(*p) for p in offsets):
                    found.append(f"{collection.get_label()!r} markers under the legend")
    return found


def test_the_overlap_check_sees_a_legend_over_data():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [0, 1, 2], "o-", label="diagonal")
    ax.bar([0.5], [1.0], width=0.4, label="bar")
    ax.legend(loc="center")
    fig.canvas.draw()
    found = overlaps(fig)
    plt.close(fig)
    assert any("diagonal" in f for f in found) and any("bar" in f for f in found)


@pytest.mark.parametrize("name", ["gas_per_inference.png", "prover_overhead.png", "time_split.png",
                                  "dispute_gas.png"])
def test_no_legend_covers_data(drawn, name):
    fig = drawn[name]
    assert _legend_boxes(fig), f"{name} has no legend"
    drawn_artists = sum(len(ax.get_lines()) + len(ax.patches) for ax in fig.axes)
    assert drawn_artists >= 3, f"{name} drew almost nothing from the fixture"
    assert overlaps(fig) == []


@pytest.mark.parametrize("name", ["gas_per_inference.png", "time_split.png", "dispute_gas.png"])
def test_tick_labels_do_not_collide(drawn, name):
    for ax in drawn[name].axes:
        labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        boxes = sorted((t.get_window_extent() for t in labels), key=lambda b: b.x0)
        assert len(boxes) >= 2
        for left, right in zip(boxes, boxes[1:]):
            assert left.x1 <= right.x0, f"{name}: x tick labels overlap"


def test_figures_fit_the_page_column(result):
    import matplotlib.image as mpimg

    for name, fig in figures(result).items():
        image = mpimg.imread(io.BytesIO(to_png(fig)), format="png")
        height, width = image.shape[:2]
        assert width == round(WIDTH_IN * DPI) <= PAGE_COLUMN_PX and height > 300, name


def test_cells_say_what_they_hold():
    root = "0x" + "ab12" * 16
    text = html_table(["chain", "model", "model root", "gas", "prove"],
                      [["anvil", "784->1024->256->10", root, "1,383,003", "32 µs"]])
    assert f'<code title="{root}">0xab12ab12…' in text and root not in text.replace(f'title="{root}"', "")
    assert '<td class="id">784→1024→256→10</td>' in text
    assert '<td class="n">1,383,003</td>' in text and '<td class="n">32 µs</td>' in text
    assert "<th class=n>gas</th>" in text and "<th>chain</th>" in text


def test_report_tables_show_people_numbers(result):
    page, pngs = render(result)
    assert len(pngs) == 4 and page.count("data:image/png;base64,") == 4
    assert "e-0" not in page.split("<h2>Every row</h2>")[1], "a number in exponent notation"
    assert "64→16→10" in page and "0.0000433" in page  # USD per inference at N=4096
