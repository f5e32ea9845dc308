"""NWB files in a lab's layout, built with pynwb directly (not with neurorx's writer), for the reader's tests."""


def make_hd_lab_file(path, *, units=True, position=True, epoch_shift=0.0, n_units=24, seed=0, sleep_speed=2.0,
                     bursts=None):
    """An NWB file in a head-direction lab's layout, built with pynwb directly (not neurorx's writer).

    Wake: 60 s of a random-walk head direction sampled at 50 Hz in ``processing["behavior"]`` as a
    ``CompassDirection`` (radians), with ``n_units`` von Mises HD cells (peak 30 Hz, kappa 4, baseline 0.5 Hz)
    firing as Poisson processes of it. Sleep: 20 s in which the cells follow an internal bearing sweeping at
    ``sleep_speed`` rad/s (what the decoder should recover). Epochs tagged ``wake`` and ``sleep``.

    ``bursts=(speed, duration, every)`` makes sleep a lab's replay instead: the cells fire at a tenth of their
    rates around a still bearing, except for bursts of ``duration`` seconds every ``every`` seconds in which
    they fire at twice their rates along a sweep of ``speed`` rad/s from a random start (alternating
    direction). The returned dict then lists the bursts' ``(start, stop)`` times.
    """
    from datetime import UTC, datetime

    import numpy as np
    import pynwb
    from pynwb.behavior import CompassDirection, SpatialSeries
    from pynwb.file import Subject

    rng = np.random.default_rng(seed)
    fs, dt = 50.0, 0.002
    wake_t = np.arange(0, 60, 1 / fs)
    hd = np.cumsum(rng.normal(0, 0.15, wake_t.size))
    sleep_t0, sleep_t1 = 70.0, 90.0
    prefs = np.linspace(-np.pi, np.pi, n_units, endpoint=False)

    def rates(angle):
        return 0.5 + 29.5 * np.exp(4 * (np.cos(angle[:, None] - prefs[None, :]) - 1))

    fine_wake = np.arange(0, 60, dt)
    fine_sleep = np.arange(sleep_t0, sleep_t1, dt)
    internal = sleep_speed * (fine_sleep - sleep_t0)
    sleep_rates = rates(internal)
    burst_times = []
    if bursts is not None:
        speed, duration, every = bursts
        gain = np.full(fine_sleep.size, 0.1)
        internal = np.full(fine_sleep.size, rng.uniform(-np.pi, np.pi))
        for k, t0 in enumerate(np.arange(sleep_t0 + every / 2, sleep_t1 - duration, every)):
            inside = (fine_sleep >= t0) & (fine_sleep < t0 + duration)
            internal[inside] = rng.uniform(-np.pi, np.pi) + (-1) ** k * speed * (fine_sleep[inside] - t0)
            gain[inside] = 2.0
            burst_times.append((float(t0), float(t0 + duration)))
        sleep_rates = gain[:, None] * rates(internal)
    lam = np.concatenate([rates(np.interp(fine_wake, wake_t, hd)), sleep_rates]) * dt
    fired = rng.random(lam.shape) < lam
    times = np.concatenate([fine_wake, fine_sleep])
    f = pynwb.NWBFile(session_description="HD cells, wake then sleep (synthetic)", identifier="hd-lab",
                      session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
                      subject=Subject(subject_id="m1", species="Mus musculus", sex="M", age="P90D"))
    if position:
        beh = f.create_processing_module("behavior", "tracking")
        cd = CompassDirection(name="CompassDirection")
        cd.add_spatial_series(SpatialSeries(name="head-direction", data=np.mod(hd, 2 * np.pi), timestamps=wake_t,
                                            reference_frame="0 is the room's east wall", unit="radians"))
        beh.add(cd)
    if units:
        for j in range(n_units):
            f.add_unit(spike_times=times[fired[:, j]])
    f.add_epoch(start_time=0.0 + epoch_shift, stop_time=60.0 + epoch_shift, tags=["wake"])
    f.add_epoch(start_time=sleep_t0 + epoch_shift, stop_time=sleep_t1 + epoch_shift, tags=["sleep"])
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(f)
    return path, {"sleep_start": sleep_t0, "sleep_speed": sleep_speed, "bursts": burst_times}
