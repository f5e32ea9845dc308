#!/usr/bin/env bash
# Reproduce every shipped network in models/ with `neurorx train` (seed 0), then copy it next to its card.
# Usage: bash models/train_shipped.sh [NAME ... | dale]    (default: the unconstrained networks, in the order
# below; `dale` trains the Dale (E/I) cards of docs/dale.md)
# U^σ and B^σ use the paper's 2500 batches; the others fewer (the paper: 2500 spatial, 20000 head direction) to
# fit a 2-core CPU; each learning curve (in the .npz and models/<name>.learning_curve.png) shows how far it got.
# A run whose folder holds a checkpoint is resumed, which gives exactly the weights of an uninterrupted run; a
# finished run is only copied. THREADS=k sets trainer.threads (e.g. THREADS=1 to share a busy machine).
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A EPOCHS=(
  [spatial_navigation/noisy_unbiased]=2500
  [spatial_navigation/noisy_biased]=2500
  [head_direction/noisy_unbiased]=3000
  [head_direction/noisy_biased]=3000
  [spatial_navigation/no-noise_unbiased]=2500
  [spatial_navigation/no-noise_biased]=2500
  [spatial_navigation/noisy_unbiased_white]=2500
  [spatial_navigation/noisy_biased_white]=2500
  [spatial_navigation/noisy_unbiased_gru]=2500
  [spatial_navigation/noisy_biased_gru]=2500
  [spatial_navigation/noisy_unbiased_dale]=2500
  [spatial_navigation/noisy_biased_dale]=2500
  [spatial_navigation/noisy_unbiased_white_dale]=2500
  [spatial_navigation/noisy_biased_white_dale]=2500
  [head_direction/noisy_unbiased_dale]=3000
  [head_direction/noisy_unbiased_white]=3000
  [head_direction/noisy_unbiased_white_dale]=3000
)
ORDER=(head_direction/noisy_unbiased head_direction/noisy_biased spatial_navigation/noisy_unbiased
       spatial_navigation/noisy_biased spatial_navigation/no-noise_unbiased spatial_navigation/no-noise_biased
       spatial_navigation/noisy_unbiased_white spatial_navigation/noisy_biased_white
       spatial_navigation/noisy_unbiased_gru spatial_navigation/noisy_biased_gru head_direction/noisy_unbiased_white)
DALE=(spatial_navigation/noisy_unbiased_dale spatial_navigation/noisy_biased_dale
      spatial_navigation/noisy_unbiased_white_dale spatial_navigation/noisy_biased_white_dale
      head_direction/noisy_unbiased_dale head_direction/noisy_unbiased_white_dale)
if [ "${1:-}" = dale ]; then names=("${DALE[@]}"); else names=("${@:-${ORDER[@]}}"); fi
threads=()
if [ -n "${THREADS:-}" ]; then threads=("trainer.threads=$THREADS"); fi
for name in "${names[@]}"; do
  out="runs/shipped/$name"
  echo "== $name: ${EPOCHS[$name]} batches -> $out"
  if [ -f "$out/network.npz" ] && [ ! -d "$out/.replacing" ]; then
    echo "   finished; copying"
  else
    if [ -f "$out/checkpoint.npz" ]; then mode=--resume; else mode=--force; fi
    python -m neurorx.cli train "$name" seed=0 "trainer.n_epochs=${EPOCHS[$name]}" "${threads[@]}" --out "$out" $mode
  fi
  cp "$out/network.npz" "models/$name.npz"
  cp "$out/learning_curve.png" "models/$name.learning_curve.png"
done
