"""Cell codes and top-k decoding (paper.md §2.1 "Place-cell code", §2.2 "HD cells"; Eqs. 20-21)."""

import numpy as np
import pytest
import scipy.stats
import torch

from neurorx.tasks import (
    HD_CODES,
    PLACE_CODES,
    HeadDirection,
    HeadDirectionCells,
    PlaceCells,
    SpatialNavigation,
)

KAPPA = 1 / (np.pi / 6) ** 2


@pytest.fixture(scope="module")
def sp():
    return SpatialNavigation(seed=0)


@pytest.fixture(scope="module")
def hd():
    return HeadDirection()


def test_registries_offer_reference_and_paper_codes():
    assert PLACE_CODES.names() == ["softmax", "gaussian"]
    assert HD_CODES.names() == ["von_mises", "von_mises_density"]
    assert SpatialNavigation().code == "softmax"
    assert HeadDirection().code == "von_mises"


# ---------------------------------------------------------------- place cells


def test_softmax_code_sums_to_one_and_peaks_near_0_046_at_a_centre(sp):
    rng = np.random.default_rng(1)
    codes = sp.encode(rng.uniform(-1.1, 1.1, (1000, 2)))
    np.testing.assert_allclose(codes.sum(-1), 1.0, rtol=1e-12)
    assert np.all(codes > 0)
    # paper.md: "targets sum to 1 and peak at ≈ 0.046". Evaluated at the cell centres the peak is the
    # cell's own one; averaged over the 512 centres it is 0.0437-0.0449 for seeds 0-4 (edge cells are higher).
    tasks = [SpatialNavigation(seed=s) for s in range(3)]
    peaks = [t.encode(t.centres).max(-1).mean() for t in tasks]
    assert np.mean(peaks) == pytest.approx(0.046, abs=0.003)


def test_softmax_peak_cell_is_the_cell_at_the_position(sp):
    codes = sp.encode(sp.centres)
    np.testing.assert_array_equal(codes.argmax(-1), np.arange(sp.n_cells))


def test_gaussian_code_is_paper_eq_20():
    task = SpatialNavigation(code="gaussian", seed=3)
    pos = np.array([[0.1, -0.4], [1.0, 1.0]])
    d2 = ((pos[:, None, :] - task.centres[None]) ** 2).sum(-1)
    np.testing.assert_allclose(task.encode(pos), np.exp(-d2 / (2 * 0.2**2)), rtol=1e-12)
    np.testing.assert_allclose(task.encode(task.centres).max(-1), 1.0)
    # the softmax code is the same Gaussian, normalised over cells
    soft = SpatialNavigation(code="softmax", seed=3).encode(pos)
    gauss = task.encode(pos)
    np.testing.assert_allclose(soft, gauss / gauss.sum(-1, keepdims=True), rtol=1e-10)


def test_encode_accepts_any_leading_shape(sp):
    pos = np.random.default_rng(0).uniform(-1, 1, (3, 4, 5, 2))
    codes = sp.encode(pos)
    assert codes.shape == (3, 4, 5, sp.n_cells)
    np.testing.assert_array_equal(codes[1, 2, 3], sp.encode(pos[1, 2, 3]))
    assert sp.decode(codes).shape == (3, 4, 5, 2)


def test_top_k_decode_is_the_mean_of_the_k_most_active_centres(sp):
    out = np.zeros(sp.n_cells)
    out[[7, 100, 300]] = [3.0, 2.0, 1.0]
    out[42] = 0.5
    np.testing.assert_allclose(sp.decode(out), sp.centres[[7, 100, 300]].mean(0))
    np.testing.assert_allclose(sp.decode(out, k=1), sp.centres[7])
    np.testing.assert_allclose(sp.decode(out, k=4), sp.centres[[7, 100, 300, 42]].mean(0))


def test_decoding_the_true_code_reaches_the_top3_floor():
    # paper.md §2.3: top-3 decoding of the true targets has a floor of ≈ 1.25e-3 m² per coordinate
    # (≈ 4.3 cm mean distance). The floor depends on the random centres (seeds 0-4: 1.2-1.5e-3 m²,
    # 4.2-4.5 cm), so average over three centre seeds and allow 25%.
    mse, dist = [], []
    for seed in range(3):
        task = SpatialNavigation(seed=seed)
        batch = task.sample(100, 100, seed=10 + seed)
        dec = task.decode(batch.targets)
        mse.append(np.mean((dec - batch.states) ** 2))
        dist.append(task.error(dec, batch.states).mean())
    assert np.mean(mse) == pytest.approx(1.25e-3, rel=0.25)
    assert np.mean(dist) == pytest.approx(0.043, rel=0.1)


def test_place_cells_torch_in_torch_out(sp):
    pos = torch.tensor([[0.2, -0.3], [-1.0, 0.9]], dtype=torch.float32)
    codes = sp.encode(pos)
    assert isinstance(codes, torch.Tensor) and codes.dtype == torch.float32
    np.testing.assert_allclose(codes.numpy(), sp.encode(pos.numpy().astype(np.float64)), atol=1e-6)
    dec = sp.decode(codes)
    assert isinstance(dec, torch.Tensor) and dec.dtype == torch.float32 and dec.shape == (2, 2)
    np.testing.assert_allclose(dec.numpy(), sp.decode(codes.numpy()), atol=1e-6)


def test_place_cells_can_be_built_directly():
    cells = PlaceCells([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], sigma=0.5)
    assert cells.n_cells == 3
    np.testing.assert_allclose(cells.decode(cells.encode(np.array([0.9, 0.1])), k=1), [1.0, 0.0])


# ---------------------------------------------------------------- head-direction cells


def test_hd_preferred_angles_are_the_reference_linspace(hd):
    np.testing.assert_array_equal(hd.preferred_angles, np.linspace(-np.pi, np.pi, 512))


def test_hd_code_is_peak_one_von_mises(hd):
    theta = np.array([[0.3]])
    code = hd.encode(theta)[0]
    np.testing.assert_allclose(code, np.exp(KAPPA * (np.cos(0.3 - hd.preferred_angles) - 1)), rtol=1e-12)
    np.testing.assert_allclose(hd.encode(hd.preferred_angles[:, None]).max(-1), 1.0)
    # paper.md §2.2: FWHM ≈ 1.25 rad, sum over cells ≈ 111.5
    assert code.sum() == pytest.approx(111.5, rel=0.01)
    grid = np.linspace(-np.pi, np.pi, 20_001)[:, None]
    tuning = hd.encode(grid)[:, 256]
    above = grid[tuning >= 0.5, 0]
    assert above.max() - above.min() == pytest.approx(1.25, abs=0.01)


def test_hd_batch_targets_equal_the_direct_cosine_form_and_are_identical_in_float32(hd):
    # encode takes cos(theta - mu) as cos theta cos mu + sin theta sin mu (the cost of every training batch)
    theta = np.random.default_rng(0).uniform(-np.pi, np.pi, (40, 50, 1))
    direct = np.exp(KAPPA * (np.cos(theta - hd.preferred_angles) - 1))
    fast = hd.encode(theta)
    assert np.abs(fast - direct).max() < 1e-13
    np.testing.assert_array_equal(fast.astype(np.float32), direct.astype(np.float32))
    assert theta.shape == (40, 50, 1)                      # the caller's angles are not modified


def test_hd_density_code_is_paper_eq_21():
    task = HeadDirection(code="von_mises_density")
    theta = np.array([[2.0], [-3.1]])
    expected = scipy.stats.vonmises.pdf(theta, KAPPA, loc=task.preferred_angles)
    np.testing.assert_allclose(task.encode(theta), expected, rtol=1e-10)
    # a density: integrates to one over the circle (grid without the duplicated endpoint)
    assert task.encode(np.array([0.7]))[:-1].sum() * 2 * np.pi / 511 == pytest.approx(1.0, rel=1e-9)


def test_hd_decode_round_trip_is_a_fraction_of_a_degree(hd):
    theta = np.linspace(-np.pi, np.pi, 20_001)[:, None]
    err = np.degrees(hd.error(hd.decode(hd.encode(theta)), theta))
    spacing = np.degrees(2 * np.pi / 511)  # 0.70°
    assert err.mean() < 0.3
    assert err.max() < spacing


def test_hd_decode_is_circular_across_the_seam(hd):
    # top-3 cells: -pi, -pi + delta and +pi. A linear mean would give about delta/3 - pi/3 (≈ -1 rad); the
    # circular mean atan2(mean sin, mean cos) stays at the seam, at about -pi + delta/3.
    out = np.zeros(512)
    out[[0, 1, 511]] = [3.0, 2.0, 1.0]
    delta = 2 * np.pi / 511
    angles = np.array([-np.pi, -np.pi + delta, np.pi])
    dec = hd.decode(out)
    assert dec.shape == (1,)
    np.testing.assert_allclose(dec, [np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())], rtol=1e-14)
    assert hd.error(dec, np.array([-np.pi + delta / 3])) < 1e-6
    # states just either side of ±pi decode to within a fraction of a degree
    theta = np.array([[np.pi - 1e-3], [-np.pi + 1e-3], [np.pi - 0.02], [-np.pi + 0.02]])
    assert np.all(np.degrees(hd.error(hd.decode(hd.encode(theta)), theta)) < 0.5)


def test_hd_torch_in_torch_out(hd):
    theta = torch.tensor([[3.1], [-3.1], [0.01]], dtype=torch.float64)  # (0.0 is a tie between two cells)
    codes = hd.encode(theta)
    assert isinstance(codes, torch.Tensor) and codes.shape == (3, 512)
    dec = hd.decode(codes)
    assert isinstance(dec, torch.Tensor) and dec.shape == (3, 1)
    np.testing.assert_allclose(dec.numpy(), hd.decode(codes.numpy()), atol=1e-12)
    err = hd.error(dec, theta)
    assert isinstance(err, torch.Tensor) and err.shape == (3,) and float(err.max()) < 0.01


def test_hd_cells_can_be_built_directly():
    cells = HeadDirectionCells(n_cells=64, sigma=0.3)
    assert cells.kappa == pytest.approx(1 / 0.09)
    assert cells.decode(cells.encode(np.array([1.0]))).shape == (1,)
