#!/usr/bin/env bash
# Train the Dale (E/I) cards of issue 14 with `neurorx train` (seed 0, paper scale), resumably.
# Usage: bash models/train_dale.sh [NAME ...]    (default: all, in the order below)
# Outputs go to runs/dale/<name>/ (checkpoint every 100 batches). Rerunning the script resumes every run that has
# a checkpoint, which gives exactly the weights of an uninterrupted run; a finished run is copied next to its card.
# THREADS (default 1) sets trainer.threads, to share a busy machine.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A EPOCHS=(
  [spatial_navigation/noisy_unbiased_dale]=2500
  [spatial_navigation/noisy_biased_dale]=2500
  [spatial_navigation/noisy_unbiased_white_dale]=2500
  [spatial_navigation/noisy_biased_white_dale]=2500
  [head_direction/noisy_unbiased_dale]=3000
)
ORDER=(spatial_navigation/noisy_unbiased_dale spatial_navigation/noisy_biased_dale
       spatial_navigation/noisy_unbiased_white_dale spatial_navigation/noisy_biased_white_dale
       head_direction/noisy_unbiased_dale)
names=("${@:-${ORDER[@]}}")
for name in "${names[@]}"; do
  out="runs/dale/$name"
  echo "== $name: ${EPOCHS[$name]} batches -> $out"
  if [ -f "$out/network.npz" ] && [ ! -d "$out/.replacing" ]; then echo "   done"; continue; fi
  if [ -f "$out/checkpoint.npz" ]; then mode=--resume; else mode=--force; fi
  python -m neurorx.cli train "$name" seed=0 "trainer.n_epochs=${EPOCHS[$name]}" "trainer.threads=${THREADS:-1}" \
    --out "$out" $mode
  cp "$out/network.npz" "models/$name.npz"
  cp "$out/learning_curve.png" "models/$name.learning_curve.png"
done
