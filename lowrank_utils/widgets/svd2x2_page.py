"""Chapter 2's geometry widget as it works in the HTML book: the 2×2 SVD computed in the page.

Four continuous sliders would need far too many precomputed pictures, so the page does the
mathematics itself, in a few lines of JavaScript (no kernel, no widget manager, nothing
downloaded): the closed-form SVD of a 2×2 matrix with the sign convention of ``svd_2x2`` (Vᵀ a
rotation, v₁ in the right half-plane), and four SVG panels, x → Vᵀx → ΣVᵀx → UΣVᵀx = Ax. The
browser tests compare its numbers with ``svd_2x2``. In JupyterLab the same output works, and
``svd_explorer`` (ipywidgets, computed in Python) is there too. Used in chapter 2, "Geometry".
"""
from __future__ import annotations

import json

import numpy as np

from ..plotting import COLORS
from .svd2x2 import ARC_COLOR, GHOST_COLOR, LIMIT, PRESETS, SHAPE_COLOR, SLIDER_MAX, _as_2x2

__all__ = ["SVDPage", "svd_geometry_page"]

ARROW_COLORS = (COLORS["sv1"], COLORS["sv2"])   # where v₁ and v₂ go, as in svd_explorer


class SVDPage:
    """An HTML output: sliders for a₁₁ … a₂₂, a preset menu, four SVG panels and a caption."""

    def __init__(self, A: np.ndarray | None = None, element_id: str = "svd-geometry"):
        start = np.reshape(PRESETS["general / 一般"], (2, 2)) if A is None else _as_2x2(A)
        if np.any(np.abs(start) > SLIDER_MAX):
            raise ValueError(f"A's entries must lie in [-{SLIDER_MAX}, {SLIDER_MAX}], "
                             f"got {start.tolist()}")
        self.A, self.id = start, element_id

    def _repr_html_(self) -> str:
        names = ("a₁₁", "a₁₂", "a₂₁", "a₂₂")
        sliders = "".join(
            f'<label class="svd-entry">{name} <input type="range" min="-{SLIDER_MAX}" '
            f'max="{SLIDER_MAX}" step="0.05" value="{value:.2f}" data-entry="{i}" '
            f'aria-label="{name}"> <output>{value:.2f}</output></label>'
            for i, (name, value) in enumerate(zip(names, self.A.ravel())))
        presets = "".join(f"<option>{name}</option>" for name in PRESETS)
        titles = [("x", "unit circle / 單位圓"), ("Vᵀx", "rotate / 旋轉"),
                  ("ΣVᵀx", "stretch / 伸縮"), ("UΣVᵀx = Ax", "rotate or reflect / 旋轉或鏡射")]
        panels = "".join(
            f'<figure class="svd-panel"><svg viewBox="-{LIMIT} -{LIMIT} {2 * LIMIT} {2 * LIMIT}" '
            f'role="img" aria-label="{t} — {d}"><g transform="scale(1,-1)">'
            f'<circle r="1" fill="none" stroke="{GHOST_COLOR}" stroke-width="0.03"/>'
            f'<line x1="-{LIMIT}" x2="{LIMIT}" y1="0" y2="0" stroke="#ddd" stroke-width="0.02"/>'
            f'<line y1="-{LIMIT}" y2="{LIMIT}" x1="0" x2="0" stroke="#ddd" stroke-width="0.02"/>'
            f'<path class="shape" fill="none" stroke="{SHAPE_COLOR}" stroke-width="0.05"/>'
            f'<path class="arc" fill="none" stroke="{ARC_COLOR}" stroke-width="0.09"/>'
            f'<circle class="dot" r="0.1" fill="{ARC_COLOR}"/>'
            + "".join(f'<line class="v{j}" stroke="{c}" stroke-width="0.07" x1="0" y1="0"/>'
                      for j, c in enumerate(ARROW_COLORS))
            + f'</g></svg><figcaption>{t}<br><small>{d}</small></figcaption></figure>'
            for t, d in titles)
        return f"""
<div class="svd-page" id="{self.id}">
 <div class="svd-controls">{sliders}
  <label><span class="lang-en">preset</span><span class="lang-zh">範例</span>
   <select class="svd-preset" aria-label="preset / 範例"><option>—</option>{presets}</select></label>
 </div>
 <div class="svd-panels">{panels}</div>
 <p class="svd-caption" aria-live="polite"></p>
</div>
<script>
(function () {{
  var root = document.getElementById({json.dumps(self.id)});
  var PRESETS = {json.dumps(PRESETS)}, N = 181, EPS = 2.220446049250313e-16;
  function svd(a, b, c, d) {{
    // A = [[a, b], [c, d]]; AᵀA = [[p, q], [q, t]]; v₁ at angle θ: Vᵀ a rotation, v₁ right
    var p = a * a + c * c, q = a * b + c * d, t = b * b + d * d;
    var mean = (p + t) / 2, rad = Math.hypot((p - t) / 2, q);
    var s1 = Math.sqrt(Math.max(mean + rad, 0)), s2 = Math.sqrt(Math.max(mean - rad, 0));
    var tol = s1 * 2 * EPS, rank = (s1 > tol) + (s2 > tol);
    if (rank === 0) return {{U: [[1, 0], [0, 1]], s: [s1, s2], Vh: [[1, 0], [0, 1]], rank: 0}};
    var th = 0.5 * Math.atan2(2 * q, p - t), cs = Math.cos(th), sn = Math.sin(th);
    if (cs < 0 || (cs === 0 && sn < 0)) {{ cs = -cs; sn = -sn; }}
    var v1 = [cs, sn], v2 = [-sn, cs];
    var u1 = [(a * v1[0] + b * v1[1]) / s1, (c * v1[0] + d * v1[1]) / s1], u2;
    if (rank === 2) u2 = [(a * v2[0] + b * v2[1]) / s2, (c * v2[0] + d * v2[1]) / s2];
    else u2 = [-u1[1], u1[0]];
    return {{U: [[u1[0], u2[0]], [u1[1], u2[1]]], s: [s1, s2], Vh: [v1, v2], rank: rank}};
  }}
  function describe(Q) {{
    var det = Q[0][0] * Q[1][1] - Q[0][1] * Q[1][0];
    var angle = Math.atan2(Q[1][0], Q[0][0]) * 180 / Math.PI;
    return det > 0 ? ["rotation by " + angle.toFixed(1) + "°", "旋轉 " + angle.toFixed(1) + "°"]
                   : ["reflection across the line at " + (angle / 2).toFixed(1) + "°",
                      "對 " + (angle / 2).toFixed(1) + "° 的直線鏡射"];
  }}
  function path(points) {{
    return points.map(function (pt, i) {{ return (i ? "L" : "M") + pt[0].toFixed(4) + " " + pt[1].toFixed(4); }}).join(" ");
  }}
  function apply(M, pt) {{ return [M[0][0] * pt[0] + M[0][1] * pt[1], M[1][0] * pt[0] + M[1][1] * pt[1]]; }}
  function update() {{
    var e = Array.prototype.map.call(root.querySelectorAll("input[type=range]"), function (x) {{ return +x.value; }});
    root.querySelectorAll("input[type=range]").forEach(function (x) {{ x.nextElementSibling.textContent = (+x.value).toFixed(2); }});
    var A = [[e[0], e[1]], [e[2], e[3]]], f = svd(e[0], e[1], e[2], e[3]);
    var S = [[f.s[0], 0], [0, f.s[1]]];
    var circle = [];
    for (var i = 0; i < N; i++) {{ var t = 2 * Math.PI * i / (N - 1); circle.push([Math.cos(t), Math.sin(t)]); }}
    var V = [[f.Vh[0][0], f.Vh[1][0]], [f.Vh[0][1], f.Vh[1][1]]];
    var stages = [function (x) {{ return x; }}, function (x) {{ return apply(f.Vh, x); }},
                  function (x) {{ return apply(S, apply(f.Vh, x)); }}, function (x) {{ return apply(A, x); }}];
    root.querySelectorAll(".svd-panel").forEach(function (panel, k) {{
      var pts = circle.map(stages[k]);
      panel.querySelector(".shape").setAttribute("d", path(pts));
      panel.querySelector(".arc").setAttribute("d", path(pts.slice(0, (N - 1) / 4 + 1)));
      panel.querySelector(".dot").setAttribute("cx", pts[0][0]);
      panel.querySelector(".dot").setAttribute("cy", pts[0][1]);
      [0, 1].forEach(function (j) {{
        var tip = stages[k]([V[0][j], V[1][j]]), line = panel.querySelector(".v" + j);
        line.setAttribute("x2", tip[0]); line.setAttribute("y2", tip[1]);
      }});
    }});
    var det = e[0] * e[3] - e[1] * e[2], dv = describe(f.Vh), du = describe(f.U);
    root.dataset.sigma = f.s.map(function (x) {{ return x.toFixed(6); }}).join(",");
    root.dataset.u = [f.U[0][0], f.U[0][1], f.U[1][0], f.U[1][1]].map(function (x) {{ return x.toFixed(6); }}).join(",");
    root.dataset.vh = [f.Vh[0][0], f.Vh[0][1], f.Vh[1][0], f.Vh[1][1]].map(function (x) {{ return x.toFixed(6); }}).join(",");
    root.querySelector(".svd-caption").innerHTML =
      '<span class="lang-en">σ₁ = ' + f.s[0].toFixed(3) + ", σ₂ = " + f.s[1].toFixed(3) + ", det A = " + det.toFixed(3) +
      ", rank " + f.rank + "; Vᵀ: " + dv[0] + "; U: " + du[0] + "</span>" +
      '<span class="lang-zh">σ₁ = ' + f.s[0].toFixed(3) + "，σ₂ = " + f.s[1].toFixed(3) + "，det A = " + det.toFixed(3) +
      "，秩 " + f.rank + "；Vᵀ：" + dv[1] + "；U：" + du[1] + "</span>";
  }}
  root.querySelector(".svd-preset").addEventListener("change", function (ev) {{
    var v = PRESETS[ev.target.value]; if (!v) return;
    root.querySelectorAll("input[type=range]").forEach(function (x, i) {{ x.value = v[i]; }});
    update();
  }});
  root.addEventListener("input", update);
  update();
}})();
</script>"""


def svd_geometry_page(A: np.ndarray | None = None) -> SVDPage:
    """Chapter 2's geometry widget, computed in the page (see ``SVDPage``)."""
    return SVDPage(A)
