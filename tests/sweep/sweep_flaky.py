"""A custom statistic that always fails (for the retry tests); importable by the test workers."""


def explode(rec, *, marker: str):
    """Append one line per attempt to ``marker``, then raise."""
    with open(marker, "a", encoding="utf-8") as fh:
        fh.write("attempt\n")
    raise RuntimeError("deliberate failure in a test statistic")


def mean_abs_decoded(rec):
    """A working custom statistic: the mean absolute decoded coordinate."""
    return {"mean_abs": float(abs(rec.decoded).mean())}
