#!/usr/bin/env bash
# Runs every experiment the kit can reproduce, headless, at one profile, writing run directories under
# results/. A failing step stops the run and is named. Rerunning resumes finished and interrupted steps.
#
#   ./reproduce.sh [--profile smoke|quick|paper] [--only <experiment>] [--fresh]
#
# Profiles: smoke (seconds; what CI runs), quick (the default; reduced epochs), paper (the seeds' settings).
set -euo pipefail
cd "$(dirname "$0")"

PROFILE=quick; ONLY=""; FRESH=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE="${2:?--profile needs a value}"; shift 2 ;;
    --only) ONLY="${2:?--only needs an experiment name}"; shift 2 ;;
    --fresh) FRESH="--fresh"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "reproduce.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$PROFILE" in smoke|quick|paper) ;; *) echo "reproduce.sh: --profile must be smoke, quick or paper" >&2; exit 2 ;; esac
[ -f dist/cli/main.js ] || { echo "reproduce.sh: the kit is not installed; run: bash scripts/setup.sh" >&2; exit 1; }

# name | command (run with the profile appended)
STEPS=(
  "train-lenet5-mnist|node bin/tck.js train --preset lenet5-mnist"
  "train-lenet5-fashion-mnist|node bin/tck.js train --preset lenet5-fashion-mnist"
)

names() { for s in "${STEPS[@]}"; do printf '%s ' "${s%%|*}"; done; }
if [ -n "$ONLY" ] && ! printf '%s\n' "${STEPS[@]}" | grep -q "^$ONLY|"; then
  echo "reproduce.sh: no experiment $ONLY; experiments: $(names)" >&2; exit 2
fi

start=$(date +%s); n=0
for s in "${STEPS[@]}"; do
  name="${s%%|*}"; cmd="${s#*|}"
  [ -n "$ONLY" ] && [ "$name" != "$ONLY" ] && continue
  n=$((n + 1))
  printf '\n\033[1m== [%d] %s (profile %s) ==\033[0m\n' "$n" "$name" "$PROFILE"
  t0=$(date +%s)
  if ! $cmd --profile "$PROFILE" $FRESH; then
    printf '\n\033[31mreproduce.sh: step "%s" failed\033[0m (command: %s --profile %s)\n' "$name" "$cmd" "$PROFILE" >&2
    exit 1
  fi
  printf '== %s done in %ss ==\n' "$name" "$(( $(date +%s) - t0 ))"
done
printf '\nreproduce.sh: %d step(s) at profile %s finished in %ss; results in results/\n' "$n" "$PROFILE" "$(( $(date +%s) - start ))"
