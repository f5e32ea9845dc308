#!/usr/bin/env bash
# Reproduce every shipped network in models/ with `neurorx train` (seed 0), then copy it next to its card.
# Usage: bash models/train_shipped.sh [NAME ...]    (default: all, in the order below)
# Batch counts are below the paper's (2500 spatial / 20000 head direction) to fit a 2-core CPU; each model
# card's learning curve (stored in the .npz and as runs/shipped/<name>/learning_curve.png) shows convergence.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A EPOCHS=(
  [spatial_navigation/noisy_unbiased]=1500
  [spatial_navigation/noisy_biased]=1500
  [head_direction/noisy_unbiased]=3000
  [head_direction/noisy_biased]=3000
  [spatial_navigation/no-noise_unbiased]=1000
  [spatial_navigation/no-noise_biased]=1000
  [spatial_navigation/noisy_unbiased_white]=1000
  [spatial_navigation/noisy_biased_white]=1000
  [spatial_navigation/noisy_unbiased_gru]=600
  [spatial_navigation/noisy_biased_gru]=600
)
ORDER=(spatial_navigation/noisy_unbiased spatial_navigation/noisy_biased head_direction/noisy_unbiased
       head_direction/noisy_biased spatial_navigation/no-noise_unbiased spatial_navigation/no-noise_biased
       spatial_navigation/noisy_unbiased_white spatial_navigation/noisy_biased_white
       spatial_navigation/noisy_unbiased_gru spatial_navigation/noisy_biased_gru)
names=("${@:-${ORDER[@]}}")
for name in "${names[@]}"; do
  out="runs/shipped/$name"
  echo "== $name: ${EPOCHS[$name]} batches -> $out"
  python -m neurorx.cli train "$name" seed=0 "trainer.n_epochs=${EPOCHS[$name]}" --out "$out" --force
  cp "$out/network.npz" "models/$name.npz"
  cp "$out/learning_curve.png" "models/$name.learning_curve.png"
done
