import numpy as np
import pytest

import neurorx.plotting as nplt
from neurorx.analysis import angular_velocity


def test_polar_histogram_bar_heights_are_area_true():
    angles = np.random.default_rng(0).vonmises(0.5, 2.0, size=(20, 50))
    ax = nplt.polar_histogram_panel(angles, bins=20)
    assert ax.name == "polar"
    counts, edges = np.histogram(angles.ravel(), bins=20)
    heights = np.array([p.get_height() for p in ax.patches])
    assert len(heights) == 20
    np.testing.assert_allclose(heights, np.sqrt(counts / angles.size / np.pi))
    np.testing.assert_allclose([p.get_x() for p in ax.patches], edges[:-1])


def test_polar_histogram_full_circle_and_recording(make_recording):
    rec = make_recording(circular=True)
    ax = nplt.polar_histogram_panel(rec, phase="quiescent", full_circle=True, uniform=False)
    np.testing.assert_allclose([p.get_x() for p in ax.patches], np.linspace(-np.pi, np.pi, 21)[:-1])
    assert ax.get_title() == "quiescent (torch)"
    with pytest.raises(ValueError, match="bearings"):
        nplt.polar_histogram_panel(make_recording())


def test_polar_histogram_refuses_cartesian_axes():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="polar"):
        nplt.polar_histogram_panel(np.zeros(10), ax=ax)


def test_angular_velocity_histogram_proportions_and_mean():
    rng = np.random.default_rng(0)
    angles = np.mod(np.cumsum(rng.normal(0.05, 0.1, size=(8, 200)), axis=1) + np.pi, 2 * np.pi) - np.pi
    ax = nplt.angular_velocity_histogram(angles, bins=np.linspace(-0.5, 0.5, 20))
    av = angular_velocity(angles).ravel()
    counts, _ = np.histogram(av, bins=np.linspace(-0.5, 0.5, 20))
    np.testing.assert_allclose([p.get_height() for p in ax.patches], counts / av.size)
    mean_lines = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(mean_lines) == 1 and mean_lines[0].get_xdata()[0] == pytest.approx(av.mean())
    assert any(f"{av.mean():.4f}" in t.get_text() for t in ax.texts)
    assert "rad/step" in ax.get_xlabel()


def test_angular_velocity_histogram_reference_bins_per_phase_widened_to_draw_every_step(make_recording):
    from neurorx.analysis import angular_velocity

    rec = make_recording(circular=True)
    q = nplt.angular_velocity_histogram(rec, phase="quiescent")
    av = angular_velocity(rec.select("quiescent").decoded[..., 0]).ravel()
    reach = max(0.2, np.abs(av).max())
    assert q.patches[0].get_x() == pytest.approx(-reach, rel=1e-6)
    assert sum(p.get_height() for p in q.patches) == pytest.approx(1.0)       # no step dropped (issue 27)
    a = nplt.angular_velocity_histogram(rec, phase="active", annotate_mean=False)
    assert a.patches[0].get_x() <= -0.5 and not a.texts
    assert sum(p.get_height() for p in a.patches) == pytest.approx(1.0)


def test_explicit_bins_that_drop_steps_say_so(make_recording):
    rec = make_recording(circular=True)
    ax = nplt.angular_velocity_histogram(rec, phase="quiescent", bins=np.linspace(-1e-3, 1e-3, 5),
                                         annotate_mean=False)
    assert any("of steps outside" in t.get_text() for t in ax.texts)
