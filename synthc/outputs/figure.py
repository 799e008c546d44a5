"""matplotlib figures for previews, rendered to PNG bytes that depend only on what is drawn.

matplotlib is imported inside functions (here and in the plot modules), so that ``import
synthc`` and every phase of a build but the preview never load it. Figures are made without
pyplot (no global figure state) on the Agg canvas, under matplotlib's own default style rather
than the user's matplotlibrc, with math text off (column names and values are data, not
markup), a fixed size and DPI, and no software version in the PNG: the same input gives the
same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

#: pixels per inch of every preview figure; sizes below are in inches
DPI = 100

#: rcParams on top of matplotlib's defaults while a preview is built and drawn
_STYLE: dict[RcKeyType, Any] = {
    "text.parse_math": False,
    "font.size": 9.0,
    "axes.titlesize": 9.0,
    "figure.titlesize": 12.0,
    "path.simplify": True,
    "svg.hashsalt": "synthc",
}


@contextmanager
def preview_style() -> Iterator[None]:
    """matplotlib's default style (never the user's matplotlibrc) plus the preview settings."""
    import matplotlib
    import matplotlib.style

    with matplotlib.style.context("default"), matplotlib.rc_context(_STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` x ``height`` inches on an Agg canvas, laid out by
    matplotlib's constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def render(draw: Callable[[], Figure]) -> bytes:
    """PNG bytes of the figure ``draw`` builds, built and rendered in the preview style."""
    with preview_style():
        figure = draw()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
