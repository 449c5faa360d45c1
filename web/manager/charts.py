"""Server-rendered SVG charts: bar and line charts that read the same on screen and on paper.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say what it
shows, axis labels, and series told apart by dash pattern and marker shape as well as colour
(a black-and-white print keeps them apart). The numbers are always in the table beside it.
No script, no inline style: colours are presentation attributes, fonts come from manager.css.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Series", "bar_chart", "line_chart", "nice_ticks"]

WIDTH = 640
FONT_WIDTH = 7.5          # average width of a 14px character, for laying out labels
BAR_COLOUR = "#1d70b8"
INK = "#0b0c0c"
GRID = "#b1b4b6"
# (colour, dash pattern, marker): three series readable in colour and in grey.
STYLES = (("#1d70b8", "", "circle"), ("#d4351c", "8 4", "square"),
          ("#0b0c0c", "2 4", "triangle"))


@dataclass(frozen=True)
class Series:
    """One line: its name and a value per x label (None: nothing measured there)."""

    name: str
    values: Sequence[float | None]


def nice_ticks(top: float, most: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (1, 2 or 5 times a power of ten apart)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0) if top >= 1 else step
    count = math.ceil(top / step)
    return [round(i * step, 6) for i in range(count + 1)]


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str]) -> Markup:
    head = (f'<svg class="manager-chart" role="img" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="{WIDTH}" height="{height:.0f}" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text is escaped # nosec B704


def _text(x: float, y: float, text: str, *, anchor: str = "start", cls: str = "",
          rotate: float | None = None) -> str:
    turn = f' transform="rotate({rotate:g} {x:.1f} {y:.1f})"' if rotate is not None else ""
    klass = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}{turn}>'
            f"{escape(text)}</text>")


def bar_chart(chart_id: str, title: str, desc: str, labels: Sequence[str],
              values: Sequence[float], *, axis_label: str) -> Markup:
    """A horizontal bar chart: one labelled bar per value, its number at the end of the bar."""
    longest = max((len(label) for label in labels), default=4)
    left = min(16 + longest * FONT_WIDTH, WIDTH * 0.45)
    right, top, row = 48.0, 36.0, 30.0
    plot = WIDTH - left - right
    ticks = nice_ticks(max(values, default=0))
    scale = plot / ticks[-1]
    height = top + row * max(len(labels), 1) + 56
    bottom = top + row * max(len(labels), 1)
    body = [_text(left + plot / 2, 20, title, anchor="middle", cls="manager-chart__title")]
    for tick in ticks:
        x = left + tick * scale
        body.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
                    f'stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(x, bottom + 18, _number(tick), anchor="middle"))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        width = value * scale
        body.append(_text(left - 8, y + row / 2 + 5, label, anchor="end"))
        body.append(f'<rect x="{left:.1f}" y="{y + 5:.1f}" width="{width:.1f}" '
                    f'height="{row - 10:.1f}" fill="{BAR_COLOUR}" stroke="{INK}" '
                    f'stroke-width="1"/>')
        body.append(_text(left + width + 6, y + row / 2 + 5, _number(value),
                          cls="manager-chart__value"))
    body.append(f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" '
                f'stroke="{INK}" stroke-width="1.5"/>')
    body.append(_text(left + plot / 2, bottom + 44, axis_label, anchor="middle",
                      cls="manager-chart__axis"))
    return _svg(chart_id, title, desc, height, body)


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return (f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}" '
                f'stroke="{INK}" stroke-width="0.5"/>')
    if kind == "triangle":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} '
                f'{x - 5:.1f},{y + 4:.1f}" fill="{colour}" stroke="{INK}" '
                f'stroke-width="0.5"/>')
    return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}" stroke="{INK}" '
            f'stroke-width="0.5"/>')


def _runs(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a line where a value is missing, so no line crosses a month with nothing."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def line_chart(chart_id: str, title: str, desc: str, x_labels: Sequence[str],
               series: Sequence[Series], *, y_label: str, y_max: float = 100.0,
               x_label: str = "") -> Markup:
    """A line chart of up to three series over ``x_labels``, from 0 to ``y_max``.

    A label "Apr 2026" is drawn as "Apr" with the year under it where the year changes;
    with more than 12 labels only every n-th (and the last) is drawn.
    """
    left, right, top, plot_height = 64.0, 32.0, 64.0, 220.0
    plot = WIDTH - left - right
    bottom = top + plot_height
    height = bottom + 80
    step = plot / max(len(x_labels) - 1, 1)
    every = max(1, math.ceil(len(x_labels) / 12))
    body = [_text(WIDTH / 2, 20, title, anchor="middle", cls="manager-chart__title")]
    for tick in nice_ticks(y_max):
        y = bottom - tick / y_max * plot_height
        body.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + plot:.1f}" y2="{y:.1f}" '
                    f'stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(left - 8, y + 5, _number(tick), anchor="end"))
    shown_year = ""
    for i, label in enumerate(x_labels):
        if i % every and i != len(x_labels) - 1:
            continue
        x = left + i * step if len(x_labels) > 1 else left + plot / 2
        first, _, second = label.partition(" ")   # "Apr 2026": the year only when it changes
        body.append(_text(x, bottom + 20, first, anchor="middle"))
        if second and second != shown_year:
            body.append(_text(x, bottom + 38, second, anchor="middle"))
            shown_year = second
    body.append(f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{left + plot:.1f}" '
                f'y2="{bottom:.1f}" stroke="{INK}" stroke-width="1.5"/>')
    body.append(_text(18, top + plot_height / 2, y_label, anchor="middle",
                      cls="manager-chart__axis", rotate=-90))
    if x_label:
        body.append(_text(left + plot / 2, bottom + 64, x_label, anchor="middle",
                          cls="manager-chart__axis"))
    for n, line in enumerate(series[:len(STYLES)]):
        colour, dash, marker = STYLES[n]
        points = [None if v is None else
                  (left + i * step if len(x_labels) > 1 else left + plot / 2,
                   bottom - min(v, y_max) / y_max * plot_height)
                  for i, v in enumerate(line.values)]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        for run in _runs(points):
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                            f'stroke-width="2.5"{dashes}/>')
            body.extend(_marker(marker, x, y, colour) for x, y in run)
        key_x = left + n * (plot / 3)
        body.append(f'<line x1="{key_x:.1f}" y1="40" x2="{key_x + 32:.1f}" y2="40" '
                    f'stroke="{colour}" stroke-width="2.5"{dashes}/>')
        body.append(_marker(marker, key_x + 16, 40, colour))
        body.append(_text(key_x + 40, 45, line.name))
    return _svg(chart_id, title, desc, height, body)
