"""Every file neurorx writes gets the user's umask permissions (issue 27, trap 3: results others cannot read).

Files are staged in a private temporary file (``mkstemp``: ``-rw-------``) and renamed into place; a lab's
shared results must end up as readable as any other file the user creates.
"""

import os
import stat

import numpy as np
import pytest

import neurorx as nrx
from neurorx.io import atomic_write_bytes
from neurorx.staging import default_file_mode, staged_file


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    """Run the test under a given umask (restored afterwards)."""
    before = os.umask(request.param)
    yield request.param
    os.umask(before)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def recording():
    from brian2 import ms
    from netfactory import make_network

    net = make_network(noise={"recurrent": nrx.WhiteNoise.from_step_std(0.05, 20 * ms)})
    rec = nrx.Protocol([nrx.Active(steps=20), nrx.Quiescent(steps=20)]).run(net, trials=4, seed=0, record=("h",))
    return net, rec


def test_default_file_mode_is_what_open_gives(umask, tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    assert default_file_mode() == mode(plain) == 0o666 & ~umask


def test_staged_file_gets_the_umask_mode_and_no_temporary_file_is_left(umask, tmp_path):
    with staged_file(tmp_path / "a.bin") as tmp:
        tmp.write_bytes(b"abc")
    assert mode(tmp_path / "a.bin") == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_staged_file_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), staged_file(target, overwrite=True) as tmp:
        tmp.write_bytes(b"new")
        raise RuntimeError("writer failed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_every_writer_gives_the_umask_mode(umask, tmp_path, recording):
    net, rec = recording
    expected = 0o666 & ~umask
    written = [
        atomic_write_bytes(tmp_path / "bytes.json", b"{}"),
        net.save(tmp_path / "net.npz"),
        rec.save(tmp_path / "rec.npz"),
        rec.to_netcdf(tmp_path / "rec.nc"),
        nrx.compare(rec, rec, n_boot=9, n_perm=9, n_mc=50).to_json(tmp_path / "cmp.json"),
    ]
    import matplotlib.pyplot as plt

    from neurorx.plotting import save_figure

    fig = plt.figure()
    written.append(save_figure(fig, tmp_path / "fig.png"))
    plt.close(fig)
    from neurorx.sweep.gather import save_netcdf

    written.append(save_netcdf(rec.to_xarray(), tmp_path / "results.nc"))
    assert {p.name: oct(mode(p)) for p in written} == {p.name: oct(expected) for p in written}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"
    assert np.array_equal(nrx.Recording.from_netcdf(tmp_path / "rec.nc").decoded, rec.decoded)
