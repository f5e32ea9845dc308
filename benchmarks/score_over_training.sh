#!/usr/bin/env bash
# Reduced-scale head-direction trainings with snapshots, for benchmarks/score_over_training.py.
# Usage: bash benchmarks/score_over_training.sh OUT_ROOT N_EPOCHS NAME:SEED ...
#   NAME: none (card no-noise_unbiased), uniform_S (noisy_unbiased, noise.recurrent.scale=S) or
#   white_S (noisy_unbiased_white, noise.recurrent.step_std=S). Outputs in OUT_ROOT/NAME/SEED.
# Every run: batch_size 64, test_batch 64, snapshots and evaluations every 50 batches, one thread.
set -euo pipefail
root=${1:?OUT_ROOT}; epochs=${2:?N_EPOCHS}; shift 2
common=(trainer.n_epochs="$epochs" trainer.batch_size=64 trainer.test_batch=64 trainer.eval_every=50
        trainer.snapshot_every=50 trainer.threads=1 trainer.prefetch=false)
for job in "$@"; do
  name=${job%%:*}; seed=${job##*:}
  case $name in
    none) args=(head_direction/no-noise_unbiased) ;;
    uniform_*) args=(head_direction/noisy_unbiased noise.recurrent.scale="${name#uniform_}") ;;
    white_*) args=(head_direction/noisy_unbiased_white noise.recurrent.step_std="${name#white_}") ;;
    *) echo "unknown run name $name (none, uniform_S or white_S)" >&2; exit 2 ;;
  esac
  out="$root/$name/$seed"
  if [[ ! -f "$out/network.npz" ]]; then
    python -m neurorx.cli train "${args[@]}" seed="$seed" "${common[@]}" --out "$out" --quiet --force
  fi
  echo "done $out $(date -u +%T)"
done
