"""Offline images with jittered luminosity: digits, IDX (gz or not), CSV; clear errors on bad files."""

import gzip

import numpy as np
import pytest
import torch

from neurorx.ei.data import SOURCES, check_epsilon, jitter, load_images, read_csv_images, read_idx
from neurorx.errors import ConfigurationError, FileFormatError


def _idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    return header + arr.tobytes()


@pytest.fixture
def idx_files(tmp_path):
    rng = np.random.default_rng(0)
    imgs, labels = rng.integers(0, 256, (30, 5, 4)), rng.integers(0, 3, 30)
    paths = {"img": tmp_path / "img.idx3-ubyte.gz", "lbl": tmp_path / "lbl.idx1-ubyte"}
    paths["img"].write_bytes(gzip.compress(_idx_bytes(imgs)))
    paths["lbl"].write_bytes(_idx_bytes(labels))
    return paths, imgs, labels


def test_digits_are_offline_scaled_and_split(digits):
    assert digits.n_pixels == 64 and digits.n_classes == 10
    assert len(digits.y_train) + len(digits.y_test) == 1797 and len(digits.y_test) == 449
    assert digits.x_train.dtype == np.float32 and 0 <= digits.x_train.min() and digits.x_train.max() == 1.0
    again = load_images("digits", seed=0)
    assert np.array_equal(again.y_test, digits.y_test)  # the split is a function of the seed
    assert not np.array_equal(load_images("digits", seed=1).y_test, digits.y_test)


def test_every_registered_source_is_documented_in_load_images():
    doc = load_images.__doc__
    for name in SOURCES:
        assert f'"{name}' in doc


def test_jitter_shifts_each_image_uniformly_and_clips():
    x = torch.full((2000, 10), 0.5)
    out = jitter(x.clone(), 0.3, torch.Generator().manual_seed(0))
    shift = out[:, 0] - 0.5
    assert torch.all((out - out[:, :1]).abs() < 1e-6)  # one shift per image
    assert float(shift.abs().max()) <= 0.3 and float(shift.abs().max()) > 0.29
    assert abs(float(shift.mean())) < 0.02
    clipped = jitter(torch.tensor([[0.0, 1.0, 0.95]]).repeat(500, 1), 0.75, torch.Generator().manual_seed(1))
    assert clipped.min() >= 0 and clipped.max() <= 1 and (clipped == 0).any() and (clipped == 1).any()
    assert torch.equal(jitter(x, 0.0), x)


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan")])
def test_epsilon_outside_0_1_is_a_clear_error(eps):
    with pytest.raises(ConfigurationError, match=r"outside \[0, 1\].*pass a level between 0"):
        check_epsilon(eps)
    with pytest.raises(ConfigurationError, match=r"outside \[0, 1\]"):
        jitter(torch.zeros(2, 3), eps)


def test_idx_gz_and_plain_round_trip(idx_files):
    paths, imgs, labels = idx_files
    assert np.array_equal(read_idx(paths["img"]), imgs) and np.array_equal(read_idx(paths["lbl"]), labels)
    data = load_images(f"idx:{paths['img']},{paths['lbl']}", test_fraction=0.2)
    assert data.n_pixels == 20 and len(data.y_test) == 6 and data.n_classes == 3
    assert np.isclose(data.x_train.max(), imgs.max() / 255)


def test_idx_with_separate_test_files(idx_files, tmp_path):
    paths, _, _ = idx_files
    data = load_images(f"idx:{paths['img']},{paths['lbl']},{paths['img']},{paths['lbl']}")
    assert len(data.y_train) == len(data.y_test) == 30
    other = tmp_path / "other.idx"
    other.write_bytes(_idx_bytes(np.zeros((30, 6, 6))))
    with pytest.raises(FileFormatError, match="give images of one size"):
        load_images(f"idx:{paths['img']},{paths['lbl']},{other},{paths['lbl']}")


def test_bad_idx_files_are_clear_errors(idx_files, tmp_path):
    paths, imgs, labels = idx_files
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x12\x34\x08\x03" + bytes(20))
    with pytest.raises(FileFormatError, match="wrong magic number"):
        read_idx(bad)
    bad.write_bytes(_idx_bytes(imgs)[:-7])
    with pytest.raises(FileFormatError, match="truncated or the header is wrong"):
        read_idx(bad)
    bad.write_bytes(_idx_bytes(labels[:10]))
    with pytest.raises(FileFormatError, match="30 images but 10 labels"):
        load_images(f"idx:{paths['img']},{bad}")
    with pytest.raises(FileFormatError, match="check the order of the paths"):
        load_images(f"idx:{paths['lbl']},{paths['img']}")
    with pytest.raises(FileNotFoundError, match="no such image file"):
        load_images(f"idx:{tmp_path / 'missing'},{paths['lbl']}")


def test_csv_with_header_0_255_pixels(tmp_path):
    p = tmp_path / "fm.csv"
    rows = ["label," + ",".join(f"pixel{k}" for k in range(1, 5))]
    rows += [f"{k % 3},{k},{2 * k},0,255" for k in range(12)]
    p.write_text("\n".join(rows))
    x, y = read_csv_images(p)
    assert x.shape == (12, 4) and np.isclose(x.max(), 1.0) and list(y[:4]) == [0, 1, 2, 0]
    data = load_images(f"csv:{p}", test_fraction=0.25)
    assert len(data.y_test) == 3 and data.n_classes == 3


@pytest.mark.parametrize(("text", "match"), [
    ("1,0.1,0.2\n2,0.3", "different numbers of values"),
    ("1,0.1,nan\n2,0.3,0.2", "NaN"),
    ("-1,0.1,0.2\n2,0.3,0.2", "non-negative integers"),
    ("1.5,0.1,0.2\n2,0.3,0.2", "non-negative integers"),
    ("1,0.1,300\n2,0.3,0.2", "0..255"),
])
def test_bad_csv_files_are_clear_errors(tmp_path, text, match):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(FileFormatError, match=match):
        read_csv_images(p)


def test_csv_train_and_test_of_different_sizes(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("0,0.1,0.2\n1,0.3,0.4")
    b.write_text("0,0.1,0.2,0.3\n1,0.3,0.4,0.5")
    with pytest.raises(FileFormatError, match="same size"):
        load_images(f"csv:{a},{b}")


def test_unknown_source_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="unknown image source 'mnist'"):
        load_images("mnist")
