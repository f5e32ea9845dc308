"""The explained drift on synthetic laws with known answers (docs/score_alignment.md, "Explained drift").

A 2-D Gaussian mixture (modes (+-1.5, 0), SD 0.5) sampled by an exact Langevin sampler (20 chains, 1000 steps of
eps = 0.01, every 10th kept); the score of the samples by the KDE gradient. Prints the mean cosine, the explained
drift R^2 in the densest half and over all samples, and the non-linear R^2, for: the sampler's own drift
(eps * exact score), a linear contraction towards the mean, and a random field. The same construction as
tests/analysis/test_score_explained.py, which asserts the known answers.

    python docs/scripts/score_explained_synthetic.py
"""

import time

import numpy as np

from neurorx.analysis import score as sc
from neurorx.analysis.density import kde
from neurorx.analysis.score.known_answers import EPS, langevin_samples, mixture_score


def main():
    """Print the table."""
    t0 = time.process_time()
    points = langevin_samples()
    flat = points.reshape(-1, 2)
    score = sc.kde_score(flat, flat).reshape(points.shape)
    ld = kde(flat).logpdf(flat.T).reshape(points.shape[:2])
    drifts = {"Langevin sampler (eps * exact score)": EPS * mixture_score(flat).reshape(points.shape),
              "linear contraction to the mean": -0.01 * (points - flat.mean(0)),
              "random field": np.random.default_rng(1).standard_normal(points.shape)}
    print("| drift | mean cosine | R^2 (densest half) | R^2 (all) | non-linear R^2 (densest half) |")
    print("|---|---|---|---|---|")
    for name, d in drifts.items():
        print(f"| {name} | {sc.cosine_similarity(d, score).mean():.3f} | "
              f"{sc.explained_drift(d, score, log_density=ld):.3f} | {sc.explained_drift(d, score):.3f} | "
              f"{sc.explained_drift(d, score, log_density=ld, points=points):.3f} |")
    print(f"CPU {time.process_time() - t0:.2f} s")


if __name__ == "__main__":
    main()
