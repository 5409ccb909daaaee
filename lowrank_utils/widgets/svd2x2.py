"""Chapter 2 widget: a 2×2 matrix A = U Σ Vᵀ maps the unit circle to an ellipse in three steps.

``svd_geometry`` is the computation (testable without a browser): the unit circle and its images
after Vᵀ (a rotation), after Σ Vᵀ (a stretch along the axes) and after U Σ Vᵀ = A (a rotation or
a reflection), with the singular vectors. ``svd_explorer`` wraps it in sliders for the four
entries of A; ``svd_geometry_figure`` is its static twin for the HTML book.

Signs. The SVD fixes each pair (uᵢ, vᵢ) only up to a common sign: (−uᵢ, −vᵢ) is just as valid,
and NumPy may return either. ``svd_2x2`` picks one on purpose, so that the pictures move smoothly
and say the same thing every time: Vᵀ is a rotation (det Vᵀ = +1) and v₁ points into the right
half-plane. Then det U = sign(det A) whenever A is invertible: a matrix that reverses orientation
(det A < 0) does so through U, which is a reflection.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from .._validate import as_matrix, check_int
from ..linalg import default_tolerance
from ..plotting import COLORS, bilingual
from ._render import FigureImage

__all__ = [
    "SVDGeometry",
    "svd_2x2",
    "describe_orthogonal",
    "describe",
    "arrow_polygon",
    "svd_geometry",
    "svd_explorer",
    "svd_geometry_figure",
    "PRESETS",
]

SHAPE_COLOR = "#2c3e50"     # the circle and its images
ARC_COLOR = "#f39c12"       # the quarter arc from (1, 0) to (0, 1): shows orientation
GHOST_COLOR = "#bdc3c7"     # the unit circle, faintly, behind every panel
SLIDER_MAX = 1.5            # the explorer's entries lie in [-1.5, 1.5] ...
LIMIT = 3.2                 # ... so σ₁ = ‖A‖₂ <= 2 · 1.5 = 3 fits in its axes

#: Matrices the explorer offers in its drop-down; each shows one case worth seeing.
PRESETS: dict[str, tuple[float, float, float, float]] = {
    "shear / 推移": (1.0, 1.0, 0.0, 1.0),
    "general / 一般": (1.2, 0.5, -0.4, 0.7),
    "reflection (det < 0) / 鏡射": (0.5, 1.2, 1.0, -0.3),
    "singular (rank 1) / 奇異矩陣（秩 1）": (1.0, 0.5, 1.4, 0.7),
    "rotation × 1.5 / 旋轉並放大 1.5 倍": (1.2, -0.9, 0.9, 1.2),
    "diagonal / 對角矩陣": (1.5, 0.0, 0.0, 0.5),
}

STAGE_TITLES = (
    (r"$x$", bilingual("unit circle", "單位圓")),
    (r"$V^\top x$", bilingual("rotate", "旋轉")),
    (r"$\Sigma V^\top x$", bilingual("stretch", "伸縮")),
    (r"$U \Sigma V^\top x = Ax$", bilingual("rotate or reflect", "旋轉或鏡射")),
)


def _as_2x2(A: object) -> np.ndarray:
    A = as_matrix(A)
    if A.shape != (2, 2):
        raise ValueError(f"A must be a 2×2 matrix, got shape {A.shape}")
    return A.astype(np.float64, copy=False)


def svd_2x2(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """SVD of a 2×2 matrix with fixed signs: (U, s, Vh, r) with U @ diag(s) @ Vh = A.

    Convention (the module docstring explains why): det Vh = +1 and v₁ = Vh[0] has a positive
    first entry (or is (0, 1)). r is the numerical rank (NumPy's tolerance). The zero matrix
    gets U = Vh = I. Used by the chapter 2 widget.
    """
    A = _as_2x2(A)
    U, s, Vh = np.linalg.svd(A)                      # U (2, 2), s (2,), Vh (2, 2)
    r = int(np.sum(s > default_tolerance(A, s)))
    if r == 0:
        return np.eye(2), s, np.eye(2), 0
    if np.linalg.det(Vh) < 0:                        # make Vᵀ a rotation: flip the pair (u₂, v₂)
        Vh[1] *= -1
        U[:, 1] *= -1
    v1 = Vh[0]
    if v1[0] < 0 or (v1[0] == 0 and v1[1] < 0):      # v₁ into the right half-plane:
        Vh *= -1                                     # flip both pairs (keeps det Vh = +1)
        U *= -1
    return U, s, Vh, r


def describe_orthogonal(Q: np.ndarray) -> tuple[str, float]:
    """("rotation", θ) or ("reflection", φ) for a 2×2 orthogonal Q, angles in degrees.

    A rotation turns the plane by θ; a reflection mirrors it across the line at angle φ.
    """
    Q = _as_2x2(Q)
    theta = float(np.degrees(np.arctan2(Q[1, 0], Q[0, 0])))
    if np.linalg.det(Q) > 0:
        return "rotation", theta
    return "reflection", theta / 2


@dataclass(frozen=True)
class SVDGeometry:
    """The unit circle through the three factors of A = U Σ Vᵀ (points are columns)."""

    A: np.ndarray            # (2, 2)
    U: np.ndarray            # (2, 2), columns u₁, u₂
    s: np.ndarray            # (2,), σ₁ >= σ₂ >= 0
    Vh: np.ndarray           # (2, 2), rows v₁ᵀ, v₂ᵀ (NumPy's Vh = Vᵀ); a rotation
    rank: int                # numerical rank: 2, 1 (the ellipse is a segment) or 0 (a point)
    circle: np.ndarray       # (2, N) the unit circle, starting at (1, 0), counter-clockwise
    after_Vh: np.ndarray     # (2, N) Vᵀ x: still the unit circle, turned
    after_SVh: np.ndarray    # (2, N) Σ Vᵀ x: an ellipse with axes along e₁, e₂
    after_A: np.ndarray      # (2, N) U Σ Vᵀ x = A x: the ellipse with axes σ₁u₁, σ₂u₂

    @property
    def det(self) -> float:
        """det A = det U · σ₁σ₂ · det Vᵀ; its sign says whether A keeps orientation."""
        return float(np.linalg.det(self.A))

    @property
    def stages(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The four point sets the panels draw, left to right."""
        return self.circle, self.after_Vh, self.after_SVh, self.after_A

    @property
    def arrows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per stage, a (2, 2) array whose columns are where v₁ and v₂ have gone.

        v₁, v₂ -> Vᵀvᵢ = eᵢ -> σᵢeᵢ -> A vᵢ = σᵢuᵢ.
        """
        V = self.Vh.T                                  # (2, 2), columns v₁, v₂
        return V, self.Vh @ V, self.s[:, None] * (self.Vh @ V), self.U * self.s


def svd_geometry(A: np.ndarray, n_points: int = 181) -> SVDGeometry:
    """The unit circle and its images under Vᵀ, Σ Vᵀ and U Σ Vᵀ = A, for a 2×2 matrix A.

    Signs follow ``svd_2x2``. ``n_points`` (>= 5, 1 mod 4 keeps the quarter arc exact) samples
    the circle. Used in chapter 2, section "Geometry" (the widget and its static figure).
    """
    A = _as_2x2(A)
    n_points = check_int(n_points, "n_points", low=5)
    U, s, Vh, r = svd_2x2(A)
    t = np.linspace(0.0, 2 * np.pi, int(n_points))
    circle = np.vstack([np.cos(t), np.sin(t)])          # (2, N)
    after_Vh = Vh @ circle                              # (2, N)
    after_SVh = s[:, None] * after_Vh                   # (2, N): row i scaled by σᵢ
    after_A = U @ after_SVh                             # (2, N)
    return SVDGeometry(A=A, U=U, s=s, Vh=Vh, rank=r, circle=circle, after_Vh=after_Vh,
                       after_SVh=after_SVh, after_A=after_A)


def _quarter(points: np.ndarray) -> np.ndarray:
    """The first quarter of a sampled circle (from the image of (1, 0) to that of (0, 1))."""
    return points[:, : (points.shape[1] - 1) // 4 + 1]


def arrow_polygon(tip: np.ndarray, size: float) -> np.ndarray:
    """Vertices (7, 2) of an arrow from the origin to ``tip``; ``size`` sets the head (data units).

    A polygon is cheaper to redraw per slider move than a quiver. A zero vector gives a point.
    """
    tip = np.asarray(tip, dtype=float)
    length = float(np.hypot(*tip))
    if length < 1e-12:
        return np.zeros((7, 2))
    d = tip / length                                    # unit direction
    nrm = np.array([-d[1], d[0]])                       # unit normal
    head = min(0.09 * size, 0.5 * length)               # head length, shorter on short arrows
    half_head, half_shaft = 0.5 * head, 0.012 * size
    neck = tip - head * d
    return np.array([half_shaft * nrm, neck + half_shaft * nrm, neck + half_head * nrm, tip,
                     neck - half_head * nrm, neck - half_shaft * nrm, -half_shaft * nrm])


def _draw_panels(axes: Sequence[plt.Axes], geo: SVDGeometry, limit: float) -> list:
    """Draw the four stages; return, per panel, the artists (curve, arc, arrow 1, arrow 2)."""
    artists = []
    for ax, points, arrows, (symbol, words) in zip(axes, geo.stages, geo.arrows, STAGE_TITLES):
        ax.plot(geo.circle[0], geo.circle[1], color=GHOST_COLOR, lw=1, ls=":")
        curve, = ax.plot(points[0], points[1], color=SHAPE_COLOR, lw=1.8)
        arc, = ax.plot(*_quarter(points), color=ARC_COLOR, lw=4, alpha=0.8, solid_capstyle="round",
                       marker="o", ms=7, markevery=[0])       # a dot where (1, 0) has gone
        pair = [ax.add_patch(Polygon(arrow_polygon(arrows[:, i], limit), closed=True, lw=0,
                                     facecolor=COLORS[key], zorder=3))
                for i, key in enumerate(("sv1", "sv2"))]
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.axvline(0, color="0.6", lw=0.6)
        ax.set_title(f"{symbol}\n{words}", fontsize=10)
        artists.append((curve, arc, *pair))
    return artists


def _update_panels(artists: list, geo: SVDGeometry, limit: float) -> None:
    for (curve, arc, arrow1, arrow2), points, arrows in zip(artists, geo.stages, geo.arrows):
        curve.set_data(points[0], points[1])
        arc.set_data(*_quarter(points))
        arrow1.set_xy(arrow_polygon(arrows[:, 0], limit))
        arrow2.set_xy(arrow_polygon(arrows[:, 1], limit))


def _legend_handles() -> list[Line2D]:
    return [
        Line2D([], [], color=COLORS["sv1"], lw=3,
               label=bilingual("v₁ → e₁ → σ₁e₁ → σ₁u₁", "第一對奇異向量")),
        Line2D([], [], color=COLORS["sv2"], lw=3,
               label=bilingual("v₂ → e₂ → σ₂e₂ → σ₂u₂", "第二對奇異向量")),
        Line2D([], [], color=ARC_COLOR, lw=4,
               marker="o", ms=6, markevery=[0],
               label=bilingual("quarter arc from (1, 0) (dot) to (0, 1)",
                               "從 (1, 0)（圓點）到 (0, 1) 的四分之一圓弧")),
        Line2D([], [], color=GHOST_COLOR, lw=1, ls=":", label=bilingual("unit circle", "單位圓")),
    ]


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) >= 5e-4 else "0"


def _orthogonal_phrase(Q: np.ndarray) -> tuple[str, str]:
    kind, angle = describe_orthogonal(Q)
    if kind == "rotation":
        return f"rotation by {angle:.1f}°", f"旋轉 {angle:.1f}°"
    return (f"reflection across the line at {angle:.1f}°",
            f"對 {angle:.1f}° 方向的直線鏡射")


def describe(geo: SVDGeometry) -> tuple[str, str]:
    """What the widget's label says about A, in English and Chinese (plain text, one line each)."""
    s1, s2 = geo.s
    a, b, c, d = geo.A.ravel()
    vh_en, vh_zh = _orthogonal_phrase(geo.Vh)
    u_en, u_zh = _orthogonal_phrase(geo.U)
    head = (f"A = [[{_fmt(a)}, {_fmt(b)}], [{_fmt(c)}, {_fmt(d)}]]: σ₁ = {_fmt(s1)}, "
            f"σ₂ = {_fmt(s2)}, det A = {_fmt(geo.det)}")
    en = [f"{head}, rank {geo.rank}.",
          f"Vᵀ: {vh_en}; Σ: stretch by σ₁ and σ₂; U: {u_en}."]
    zh = [f"{head}，秩 {geo.rank}。",
          f"Vᵀ：{vh_zh}；Σ：沿兩軸各伸縮 σ₁、σ₂ 倍；U：{u_zh}。"]
    if geo.rank == 0:
        en.append("A = 0 sends the whole circle to the origin.")
        zh.append("A = 0 把整個圓送到原點。")
    elif geo.rank == 1:
        en.append("σ₂ = 0: the ellipse collapses to a segment of length 2σ₁; "
                  "v₂ spans the null space (A v₂ = 0), and the sign of u₂ is free.")
        zh.append("σ₂ = 0：橢圓壓扁成長度 2σ₁ 的線段；v₂ 生成零空間（A v₂ = 0），u₂ 的正負號可任意選。")
    elif geo.det < 0:
        en.append("det A < 0: A reverses orientation (the arc now runs clockwise); "
                  "with Vᵀ a rotation, the reflection is in U.")
        zh.append("det A < 0：A 反轉定向（弧改成順時針）；Vᵀ 取為旋轉，鏡射就落在 U。")
    if geo.rank == 2 and np.isclose(s1, s2, rtol=1e-9, atol=0.0):
        en.append("σ₁ = σ₂: every direction is stretched equally, so the singular vectors are "
                  "not unique; any orthonormal pair v₁, v₂ would do, with uᵢ = A vᵢ/σ.")
        zh.append("σ₁ = σ₂：每個方向的伸縮倍率都相同，奇異向量不唯一：任何一組單範正交的 v₁、v₂ 都可以，"
                  "uᵢ = A vᵢ/σ 隨之而定。")
    en.append("(−uᵢ, −vᵢ) is an equally valid choice; here Vᵀ is a rotation and v₁ points right.")
    zh.append("(−uᵢ, −vᵢ) 同樣正確；這裡取 Vᵀ 為旋轉、v₁ 指向右半平面。")
    return " ".join(en), " ".join(zh)


def _label_html(geo: SVDGeometry) -> str:
    en, zh = describe(geo)
    return f"<div>{html.escape(en)}</div><div>{html.escape(zh)}</div>"


def svd_explorer(A: np.ndarray | None = None) -> widgets.VBox:
    """Sliders for the four entries of a 2×2 matrix; four panels circle -> Vᵀ -> ΣVᵀ -> UΣVᵀ.

    Used in chapter 2, section "Geometry". Needs a running kernel. ``box.update()`` redraws and
    ``box.geometry()`` returns the current ``SVDGeometry`` (for tests and benchmarks).
    """
    start = np.reshape(PRESETS["general / 一般"], (2, 2)) if A is None else _as_2x2(A)
    if np.any(np.abs(start) > SLIDER_MAX):
        raise ValueError(f"A's entries must lie in [-{SLIDER_MAX}, {SLIDER_MAX}] (the sliders' "
                         f"range), got {start.tolist()}")
    sliders = []
    for name, value in zip(("a₁₁", "a₁₂", "a₂₁", "a₂₂"), start.ravel()):
        slider = widgets.FloatSlider(value=float(value), min=-SLIDER_MAX, max=SLIDER_MAX,
                                     step=0.05, description=name, readout_format=".2f",
                                     continuous_update=True)
        slider.style.description_width = "40px"
        slider.layout.width = "230px"
        sliders.append(slider)
    preset = widgets.Dropdown(options=["—", *PRESETS], value="—",
                              description=bilingual("preset", "範例"))
    preset.style.description_width = "90px"

    def matrix() -> np.ndarray:
        return np.array([s.value for s in sliders], dtype=float).reshape(2, 2)

    view = FigureImage(figsize=(11.0, 3.8))
    axes = view.figure.subplots(1, 4)
    state = {"geo": svd_geometry(matrix()), "hold": False}
    artists = _draw_panels(axes, state["geo"], LIMIT)
    view.figure.legend(handles=_legend_handles(), loc="outside lower center", ncols=2, fontsize=8)
    view.animate([artist for panel in artists for artist in panel])
    label = widgets.HTML()

    def update(_change=None) -> None:
        if state["hold"]:
            return
        geo = svd_geometry(matrix())
        state["geo"] = geo
        _update_panels(artists, geo, LIMIT)
        label.value = _label_html(geo)
        view.refresh()

    def apply_preset(change) -> None:
        if change["new"] not in PRESETS:
            return
        state["hold"] = True                     # one redraw for four slider changes
        for slider, value in zip(sliders, PRESETS[change["new"]]):
            slider.value = value
        state["hold"] = False
        update()

    for slider in sliders:
        slider.observe(update, names="value")
    preset.observe(apply_preset, names="value")
    update()
    controls = widgets.HBox([widgets.VBox(sliders[:2]), widgets.VBox(sliders[2:]), preset])
    box = widgets.VBox([controls, label, view.image])
    box.update = update                  # exposed for tests and benchmarks
    box.geometry = lambda: state["geo"]
    box.sliders = sliders
    box.preset = preset
    return box


DEFAULT_FIGURE_MATRICES = (
    PRESETS["general / 一般"],
    PRESETS["reflection (det < 0) / 鏡射"],
    PRESETS["singular (rank 1) / 奇異矩陣（秩 1）"],
)


def svd_geometry_figure(matrices: Sequence[np.ndarray] | None = None) -> plt.Figure:
    """The widget's static twin: one row of four panels per matrix (default: general,
    reflection with det < 0, singular). Used in chapter 2, section "Geometry"."""
    if matrices is None:
        matrices = DEFAULT_FIGURE_MATRICES
    geos = []
    for M in matrices:
        if np.size(M) != 4:
            raise ValueError(f"matrices must hold 2×2 matrices (or their 4 entries), got {M!r}")
        geos.append(svd_geometry(np.reshape(M, (2, 2))))
    if not geos:
        raise ValueError("matrices must hold at least one 2×2 matrix")
    fig, axes = plt.subplots(len(geos), 4, figsize=(11.0, 3.2 * len(geos) + 0.6), squeeze=False)
    for row, geo in zip(axes, geos):
        limit = max(1.25, 1.15 * float(geo.s[0]))
        _draw_panels(row, geo, limit)
        a, b, c, d = geo.A.ravel()
        kind, angle = describe_orthogonal(geo.U)
        u_text = (f"U: {bilingual('rotation', '旋轉')} {angle:.1f}°" if kind == "rotation"
                  else f"U: {bilingual('reflection', '鏡射')},\n"
                       f"{bilingual('mirror line at', '鏡射線')} {angle:.1f}°")
        if geo.rank < 2:
            u_text += "\n(" + bilingual("sign of u₂ free", "u₂ 正負號任選") + ")"
        row[0].set_ylabel(f"A = [[{_fmt(a)}, {_fmt(b)}], [{_fmt(c)}, {_fmt(d)}]]\n"
                          f"det A = {_fmt(geo.det)}, {bilingual('rank', '秩')} {geo.rank}",
                          fontsize=9)
        row[2].set_xlabel(f"σ₁ = {_fmt(geo.s[0])}, σ₂ = {_fmt(geo.s[1])}", fontsize=9)
        row[3].set_xlabel(u_text, fontsize=9)
    fig.legend(handles=_legend_handles(), loc="outside lower center", ncols=2, fontsize=8)
    return fig
