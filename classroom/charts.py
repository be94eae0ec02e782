"""Server-rendered SVG line charts: coordinates computed here, drawn by a template.

No inline styles (CSP): series are told apart by a class (colour in app.css), a dash
pattern and a marker shape, so colour is never the only cue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 340
# Wide enough for the first essay's title: x labels are rotated back towards the left.
LEFT = 136
RIGHT = 16
TOP = 16
BOTTOM = 96
SHAPES = ["circle", "square", "diamond", "triangle", "cross"]


@dataclass
class ChartPoint:
    x: float
    y: float
    value: float
    label: str
    shape: str

    @property
    def corner_x(self) -> float:
        return round(self.x - 5, 1)

    @property
    def corner_y(self) -> float:
        return round(self.y - 5, 1)

    @property
    def diamond(self) -> str:
        return f"{self.x},{self.y - 6} {self.x + 6},{self.y} {self.x},{self.y + 6} {self.x - 6},{self.y}"

    @property
    def triangle(self) -> str:
        return f"{self.x},{self.y - 6} {self.x + 6},{self.y + 5} {self.x - 6},{self.y + 5}"


@dataclass
class Series:
    name: str
    index: int
    points: list[ChartPoint] = field(default_factory=list)

    @property
    def path(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)

    @property
    def shape(self) -> str:
        return SHAPES[self.index % len(SHAPES)]


@dataclass
class LineChart:
    width: int
    height: int
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    series: list[Series]
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def label_y(self) -> int:
        return self.plot_bottom + 16


def line_chart(categories: list[tuple[int, str]], series: dict[str, dict[int, float | None]]) -> LineChart:
    """Percentages (0–100) per category (x, in the given order) for each named series."""
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(categories) - 1, 1)
    xs = {
        key: round(LEFT + (i * step if len(categories) > 1 else inner_w / 2), 1)
        for i, (key, _) in enumerate(categories)
    }

    def y_of(value: float) -> float:
        return round(TOP + inner_h * (1 - max(0.0, min(value, 100.0)) / 100), 1)

    out = []
    for index, (name, values) in enumerate(series.items()):
        s = Series(name, index)
        for key, label in categories:
            value = values.get(key)
            if value is None:
                continue
            s.points.append(ChartPoint(xs[key], y_of(value), value, f"{name}, {label}: {value:g}%", s.shape))
        out.append(s)
    return LineChart(
        WIDTH,
        HEIGHT,
        [(xs[key], label) for key, label in categories],
        [(y_of(v), f"{v}%") for v in (0, 25, 50, 75, 100)],
        out,
    )
