"""Custom statistics of the sweep tests (failing ones for the retry tests); importable by the test workers."""


def explode(rec, *, marker: str):
    """Append one line per attempt to ``marker``, then raise."""
    with open(marker, "a", encoding="utf-8") as fh:
        fh.write("attempt\n")
    raise RuntimeError("deliberate failure in a test statistic")


def mean_abs_decoded(rec):
    """A working custom statistic: the mean absolute decoded coordinate."""
    return {"mean_abs": float(abs(rec.decoded).mean())}


def refuse(rec, *, marker: str):
    """Append one line per attempt to ``marker``, then raise an error every attempt would raise again."""
    from neurorx.errors import ConfigurationError

    with open(marker, "a", encoding="utf-8") as fh:
        fh.write("attempt\n")
    raise ConfigurationError("this statistic does not fit these recordings\nsecond line of details")


def quiescent_vs_active(rec):
    """A custom statistic of the whole run: KL(quiescent ‖ active) of the decoded positions."""
    from neurorx.analysis import kl_divergence

    q = rec.select("quiescent").decoded.reshape(-1, 2)
    a = rec.select("active").decoded.reshape(-1, 2)
    return {"kl": kl_divergence(q, a, n_mc=200, seed=0)}
