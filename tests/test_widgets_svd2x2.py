"""Tests of the chapter 2 widget: the 2×2 SVD geometry, its sign convention, explorer and figure."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lowrank_utils.plotting import use_book_style  # noqa: E402
from lowrank_utils.widgets import svd_explorer, svd_geometry, svd_geometry_figure  # noqa: E402
from lowrank_utils.widgets.svd2x2 import (  # noqa: E402
    PRESETS, arrow_polygon, describe, describe_orthogonal, svd_2x2)

use_book_style()

GENERAL = np.array([[1.2, 0.5], [-0.4, 0.7]])       # det > 0, non-symmetric
REFLECT = np.array([[0.5, 1.2], [1.0, -0.3]])       # det < 0
SINGULAR = np.array([[1.0, 0.5], [1.4, 0.7]])       # rank 1: row 2 = 1.4 × row 1
SCALED_ROTATION = np.array([[1.2, -0.9], [0.9, 1.2]])   # σ₁ = σ₂ = 1.5
CASES = [GENERAL, REFLECT, SINGULAR, SCALED_ROTATION, np.diag([2.0, -0.5]),
         np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[-1.0, 0.3], [0.2, -0.8]])]

entries = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


def rotation(theta_deg: float) -> np.ndarray:
    t = np.radians(theta_deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


# svd_2x2: the sign convention ------------------------------------------------------------

def check_convention(A: np.ndarray) -> None:
    U, s, Vh, r = svd_2x2(A)
    assert np.allclose(U @ np.diag(s) @ Vh, A, atol=1e-12)          # A = U Σ Vᵀ
    assert np.allclose(U.T @ U, np.eye(2)) and np.allclose(Vh @ Vh.T, np.eye(2))
    assert s[0] >= s[1] >= 0
    assert np.allclose(s, np.linalg.svd(A, compute_uv=False))
    assert r == np.linalg.matrix_rank(A)
    if r > 0:
        assert np.linalg.det(Vh) == pytest.approx(1.0)               # Vᵀ is a rotation
        assert Vh[0, 0] > 0 or (Vh[0, 0] == 0 and Vh[0, 1] > 0)     # v₁ points right
    if r == 2 and s[1] > 1e-8 * s[0]:                               # orientation lives in U
        assert np.sign(np.linalg.det(U)) == np.linalg.slogdet(A)[0]       # no underflow
        assert np.linalg.det(U) * s[0] * s[1] * np.linalg.det(Vh) == pytest.approx(np.linalg.det(A))


@pytest.mark.parametrize("A", CASES)
def test_convention_on_special_cases(A):
    check_convention(A)


@settings(max_examples=200, deadline=None)
@given(a=entries, b=entries, c=entries, d=entries)
def test_convention_on_random_matrices(a, b, c, d):
    check_convention(np.array([[a, b], [c, d]]))


def test_same_pairs_as_numpy_up_to_a_common_sign():
    """Only the joint sign of (uᵢ, vᵢ) differs from NumPy's, never the pairs themselves."""
    rng = np.random.default_rng(0)
    for _ in range(100):
        A = rng.standard_normal((2, 2))
        U, s, Vh, _ = svd_2x2(A)
        U_np, s_np, Vh_np = np.linalg.svd(A)
        for i in range(2):
            sign_u = U[:, i] @ U_np[:, i]
            sign_v = Vh[i] @ Vh_np[i]
            assert abs(sign_u) == pytest.approx(1.0) and sign_u == pytest.approx(sign_v)


def test_zero_matrix():
    U, s, Vh, r = svd_2x2(np.zeros((2, 2)))
    assert r == 0 and np.all(s == 0) and np.allclose(U, np.eye(2)) and np.allclose(Vh, np.eye(2))
    geo = svd_geometry(np.zeros((2, 2)))
    assert np.allclose(geo.after_A, 0) and "origin" in describe(geo)[0]


def test_describe_orthogonal():
    for theta in (-150.0, -30.0, 0.0, 45.0, 170.0):
        kind, angle = describe_orthogonal(rotation(theta))
        assert kind == "rotation" and angle == pytest.approx(theta)
    for phi in (-60.0, 0.0, 20.0, 80.0):
        line = np.array([np.cos(np.radians(phi)), np.sin(np.radians(phi))])
        mirror = 2 * np.outer(line, line) - np.eye(2)               # reflection across that line
        kind, angle = describe_orthogonal(mirror)
        assert kind == "reflection" and angle == pytest.approx(phi)
        assert np.allclose(mirror @ line, line)                     # the line is fixed


# svd_geometry: the three stages ------------------------------------------------------------

@pytest.mark.parametrize("A", CASES)
def test_stages_are_the_factors_applied_in_turn(A):
    geo = svd_geometry(A, n_points=101)
    x = geo.circle
    assert x.shape == (2, 101) and np.allclose(x[:, 0], [1, 0]) and np.allclose(np.hypot(*x), 1)
    assert np.allclose(geo.after_Vh, geo.Vh @ x)
    assert np.allclose(np.hypot(*geo.after_Vh), 1)                  # a rotation keeps the circle
    assert np.allclose(geo.after_SVh, np.diag(geo.s) @ geo.Vh @ x)
    assert np.allclose(geo.after_A, A @ x)                          # U Σ Vᵀ x = A x
    V, e, sigma_e, sigma_u = geo.arrows
    assert np.allclose(V, geo.Vh.T) and np.allclose(e, np.eye(2))
    assert np.allclose(sigma_e, np.diag(geo.s))
    assert np.allclose(A @ V, sigma_u)                              # A vᵢ = σᵢ uᵢ


def test_ellipse_semi_axes_are_the_singular_values():
    geo = svd_geometry(GENERAL, n_points=2001)
    x, y = geo.after_SVh
    s1, s2 = geo.s
    assert np.allclose((x / s1) ** 2 + (y / s2) ** 2, 1)            # axis-aligned ellipse
    radii = np.hypot(*geo.after_A)
    assert radii.max() == pytest.approx(s1, rel=1e-5) and radii.min() == pytest.approx(s2, rel=1e-5)


def test_reflection_reverses_orientation():
    for A, sign in ((GENERAL, 1), (REFLECT, -1)):
        geo = svd_geometry(A)
        x, y = geo.after_A
        signed_area = 0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1])  # > 0: counter-clockwise
        assert np.sign(signed_area) == sign
        assert signed_area == pytest.approx(np.pi * np.linalg.det(A), rel=1e-3)
    assert "det A < 0" in describe(svd_geometry(REFLECT))[0]
    assert "det A < 0" not in describe(svd_geometry(GENERAL))[0]


def test_singular_matrix_collapses_to_a_segment():
    geo = svd_geometry(SINGULAR)
    assert geo.rank == 1 and geo.s[1] < 1e-12
    assert np.linalg.matrix_rank(geo.after_A) == 1                  # all points on one line
    assert np.abs(geo.after_A).max() <= geo.s[0] + 1e-12
    assert np.hypot(*geo.after_A).max() == pytest.approx(geo.s[0], rel=1e-4)   # half-length σ₁
    v2 = geo.Vh[1]
    assert np.allclose(SINGULAR @ v2, 0)                            # v₂ spans the null space
    en, zh = describe(geo)
    assert "σ₂ = 0" in en and "σ₂ = 0" in zh


def test_equal_singular_values_are_flagged():
    geo = svd_geometry(SCALED_ROTATION)
    assert geo.s == pytest.approx([1.5, 1.5])
    en, zh = describe(geo)
    assert "not unique" in en and "單範正交" in zh
    assert "not unique" not in describe(svd_geometry(GENERAL))[0]


@pytest.mark.parametrize("theta", [0.0, 33.0, -120.0])
@pytest.mark.parametrize("flip", [False, True])
def test_equal_singular_values_any_orthonormal_pair_works(theta, flip):
    """What the label claims: with σ₁ = σ₂ = σ, any orthonormal v₁, v₂ and uᵢ = A vᵢ/σ is an SVD."""
    A = SCALED_ROTATION
    sigma = np.linalg.svd(A, compute_uv=False)[0]
    V = rotation(theta) @ (np.diag([1.0, -1.0]) if flip else np.eye(2))   # columns v₁, v₂
    U = A @ V / sigma                                                     # uᵢ = A vᵢ / σ
    assert np.allclose(U.T @ U, np.eye(2))                                # orthonormal
    assert np.allclose(U @ np.diag([sigma, sigma]) @ V.T, A)


def test_a_pair_flips_together_not_alone():
    U, s, Vh, _ = svd_2x2(GENERAL)
    flipped_U = U * np.array([-1.0, 1.0])                                 # −u₁ with v₁ kept
    assert not np.allclose(flipped_U @ np.diag(s) @ Vh, GENERAL)
    both_Vh = Vh * np.array([[-1.0], [1.0]])                              # and −v₁ too
    assert np.allclose(flipped_U @ np.diag(s) @ both_Vh, GENERAL)



@pytest.mark.parametrize(
    "A, n_points, error",
    [
        (np.eye(3), 181, ValueError),
        (np.ones((2, 3)), 181, ValueError),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), 181, ValueError),
        ("A", 181, TypeError),
        (np.eye(2), 3, ValueError),
        (np.eye(2), 10.5, TypeError),
    ],
)
def test_bad_input(A, n_points, error):
    with pytest.raises(error, match="A|n_points"):
        svd_geometry(A, n_points=n_points)


def test_arrow_polygon_points_at_its_tip():
    for tip in ([1.0, 0.0], [-0.3, 2.0], [0.01, -0.02]):
        xy = arrow_polygon(np.array(tip), size=3.0)
        assert xy.shape == (7, 2) and np.allclose(xy[3], tip)             # vertex 3 is the tip
        assert np.allclose(xy[0] + xy[6], 0)                              # base centred at 0
        along = xy @ np.array(tip) / np.linalg.norm(tip)
        assert along.max() == pytest.approx(np.linalg.norm(tip))          # nothing beyond the tip
    assert np.all(arrow_polygon(np.zeros(2), 3.0) == 0)                   # σ₂ = 0: no arrow


# The explorer and its static twin --------------------------------------------------------

def test_explorer_follows_its_sliders():
    box = svd_explorer()
    first = box.children[-1].value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    for slider, value in zip(box.sliders, REFLECT.ravel()):
        slider.value = value                                        # each move calls update()
    geo = box.geometry()
    assert np.allclose(geo.A, REFLECT) and np.allclose(geo.after_A, REFLECT @ geo.circle)
    assert box.children[-1].value != first
    label = box.children[1].value
    assert f"σ₁ = {geo.s[0]:.3g}" in label and "det A &lt; 0" in label   # HTML-escaped


def test_blitted_update_draws_the_same_picture_as_a_fresh_explorer():
    moved = svd_explorer(GENERAL)
    for slider, value in zip(moved.sliders, SINGULAR.ravel()):
        slider.value = value
    fresh = svd_explorer(SINGULAR)
    assert moved.children[-1].value == fresh.children[-1].value


def test_preset_sets_the_matrix():
    box = svd_explorer()
    name = next(k for k in PRESETS if "rank 1" in k)
    box.preset.value = name
    assert np.allclose(box.geometry().A, np.reshape(PRESETS[name], (2, 2)))
    assert box.geometry().rank == 1


def test_explorer_refuses_a_matrix_outside_the_slider_range():
    with pytest.raises(ValueError, match="A"):
        svd_explorer(np.array([[3.0, 0.0], [0.0, 1.0]]))


def test_static_figure_draws_each_matrix():
    fig = svd_geometry_figure([GENERAL, SINGULAR])
    axes = np.array(fig.axes[:8]).reshape(2, 4)
    for row, A in zip(axes, (GENERAL, SINGULAR)):
        geo = svd_geometry(A)
        drawn = [np.vstack(line.get_data()) for line in row[3].lines]
        assert any(d.shape == geo.after_A.shape and np.allclose(d, geo.after_A) for d in drawn)
    plt.close(fig)
    with pytest.raises(ValueError, match="matrices"):
        svd_geometry_figure([])
    with pytest.raises(ValueError, match="matrices"):
        svd_geometry_figure([np.eye(3)])
    plt.close("all")
