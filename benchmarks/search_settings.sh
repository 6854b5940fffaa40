#!/usr/bin/env bash
# Search settings measured on the ladder (docs/search.md, "Search changes, measured"):
# rung 3 (AdamW warm start) with the experiment's settings (4 training seeds, hurdle
# 0.05, 8 held-out seeds), 5 seeds x 900 s per arm, one arm after another on the whole
# machine, then each arm against the baseline, paired by seed:
#
#   bash benchmarks/search_settings.sh [ARM ...]      (default: every arm below)
#
# An arm is NAME='--set key=value ...'; the baseline is the rung-3 config as shipped.
# Interrupted, run it again: each arm resumes (`rediscover --resume`) with nothing lost.
# About 80 minutes per arm on the 2-core development machine.
#
# An arm taken to an hour a seed (its seeds go on from where they stopped), against the
# hour-long experiment from AdamW (the same settings, no change: docs/search.md):
#
#   BUDGET=3600 AT=900,1800,3600,end BASE=runs/rung3-s4-hurdle-confirm8 \
#     bash benchmarks/search_settings.sh restart5k
#
# Part of an arm's seeds (another machine, another session): FIRST_SEED=2 SEEDS=3 runs
# seeds 2..4 into its own OUT (rediscover --first-seed).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/settings}
SEEDS=${SEEDS:-5}
FIRST_SEED=${FIRST_SEED:-0}
BUDGET=${BUDGET:-900}
AT=${AT:-300,600,900}      # the times at which the climbs are compared
BASE=${BASE:-$OUT/cap20}   # the baseline they are compared with
COMMON=(--set "evaluator.seeds=[0,1,2,3]" --set hurdle_margin=0.05
        --set "evaluator.confirm_seeds=[4,5,6,7,8,9,10,11]")
declare -A ARMS=(
  [cap20]=""                              # the baseline: mutation.max_length 20
  [cap32]="--set mutation.max_length=32"  # the evaluator's limit: same cost per evaluation
  [pop50]="--set population_size=50"      # a longer memory at the same tournament size (4)
  [islands2]="--set islands=2 --set migration.every=1000"  # 2 x 20, a ring exchange ~1/min
  [tour8]="--set tournament_size=8"       # stronger selection in the same population of 20
  [ins05]="--set mutation.insert=0.5"     # fewer insertions: the kind with the fewest gains per evaluation
  [restart5k]="--set restart.plateau=5000"  # restart after 5000 children without a new best (warm start, then best)
)
arms=("$@")
[ ${#arms[@]} -gt 0 ] || arms=(cap20 cap32)
for arm in "${arms[@]}"; do
  [ -n "${ARMS[$arm]+set}" ] || { echo "unknown arm: $arm (one of: ${!ARMS[*]})" >&2; exit 2; }
  # shellcheck disable=SC2086  # an arm's settings are words
  set -- configs/ladder/rung3.yaml --seeds "$SEEDS" --first-seed "$FIRST_SEED" \
    --budget-s "$BUDGET" \
    --out "$OUT/$arm" "${COMMON[@]}" ${ARMS[$arm]} --json
  if [ -f "$OUT/$arm/rediscover.json" ]; then lion-search rediscover "$@" --resume
  else lion-search rediscover "$@"; fi
done
for arm in "${arms[@]}"; do
  [ "$OUT/$arm" = "$BASE" ] && continue
  lion-search climb "$BASE" "$OUT/$arm" --at "$AT" --reach 0.193,0.25,0.3
done
