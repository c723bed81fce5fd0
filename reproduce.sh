#!/usr/bin/env bash
# Runs every experiment the kit can reproduce, headless, at one profile, writing run directories under
# results/; then executes the notebooks (executed copies in results/notebooks/) and writes the report,
# results/REPORT.md and REPORT.html. A failing step stops the run and is named. Rerunning resumes finished and
# interrupted experiments.
#
#   ./reproduce.sh [--profile smoke|quick|paper] [--only <experiment>|notebooks|report] [--fresh]
#
# Profiles: smoke (seconds; what CI runs), quick (the default; reduced epochs), paper (the seeds' settings).
# With --only, just that step runs, and then the report.
set -euo pipefail
cd "$(dirname "$0")"

PROFILE=quick; ONLY=""; FRESH=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE="${2:?--profile needs a value}"; shift 2 ;;
    --only) ONLY="${2:?--only needs an experiment name}"; shift 2 ;;
    --fresh) FRESH="--fresh"; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "reproduce.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$PROFILE" in smoke|quick|paper) ;; *) echo "reproduce.sh: --profile must be smoke, quick or paper" >&2; exit 2 ;; esac
[ -f dist/cli/main.js ] || { echo "reproduce.sh: the kit is not installed; run: bash scripts/setup.sh" >&2; exit 1; }

# name | tck arguments (run with the profile appended): the kit's one registry of presets and steps
# (src/experiments/registry.ts), printed by `tck steps`.
mapfile -t STEPS < <(node bin/tck.js steps) || true
[ ${#STEPS[@]} -gt 0 ] || { echo "reproduce.sh: 'tck steps' listed no steps (is the kit built? run: bash scripts/setup.sh)" >&2; exit 1; }

names() { for s in "${STEPS[@]}"; do printf '%s ' "${s%%|*}"; done; printf 'notebooks report'; }
if [ -n "$ONLY" ] && [ "$ONLY" != notebooks ] && [ "$ONLY" != report ] && ! printf '%s\n' "${STEPS[@]}" | grep -q "^$ONLY|"; then
  echo "reproduce.sh: no experiment $ONLY; experiments: $(names)" >&2; exit 2
fi

start=$(date +%s); n=0
# step <name> <command...>: runs one step with a header and its time; a failure stops everything, named
step() {
  local name="$1"; shift
  n=$((n + 1))
  printf '\n\033[1m== [%d] %s (profile %s) ==\033[0m\n' "$n" "$name" "$PROFILE"
  local t0; t0=$(date +%s)
  if ! "$@"; then
    printf '\n\033[31mreproduce.sh: step "%s" failed\033[0m (command: %s)\n' "$name" "$*" >&2
    exit 1
  fi
  printf '== %s done in %ss ==\n' "$name" "$(( $(date +%s) - t0 ))"
}

for s in "${STEPS[@]}"; do
  name="${s%%|*}"; cmd="node bin/tck.js ${s#*|}"
  [ -n "$ONLY" ] && [ "$name" != "$ONLY" ] && continue
  # shellcheck disable=SC2086 # the command and --fresh are split on purpose
  step "$name" $cmd --profile "$PROFILE" $FRESH
done
# Every notebook in notebooks/, at the profile (they read TCK_PROFILE); executed copies in results/notebooks/.
if [ -z "$ONLY" ] || [ "$ONLY" = notebooks ]; then
  step notebooks node --import tsx scripts/notebooks.ts --profile "$PROFILE"
fi
# The report gathers every run directory, whatever profile made it.
step report node bin/tck.js report
printf '\nreproduce.sh: %d step(s) at profile %s finished in %ss; results in results/, report in results/REPORT.md\n' "$n" "$PROFILE" "$(( $(date +%s) - start ))"
