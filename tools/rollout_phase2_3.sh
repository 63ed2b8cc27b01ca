#!/usr/bin/env bash
# The seed's one-shot "verify the current stage" script, kept so existing habits keep working:
#   bash tools/rollout_phase2_3.sh            # every phase whose group is above 0% right now
#   bash tools/rollout_phase2_3.sh phase3-write --window 30s
# It is a thin wrapper around `npx rollout verify` (see README.md); the traffic switches
# are read from the target, so set ADMIN_TOKEN (and PLAN / --target-url for another plan or host).
# Exit code: 0 pass, 1 rollback-worthy failure, 2 invalid plan or options, 5 hold or inconclusive.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plan="${PLAN:-$root/plans/phase2-3.yaml}"
args=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  args+=(--phase "$1")
  shift
fi
exec node "$root/bin/rollout.js" verify "$plan" ${args[@]+"${args[@]}"} "$@"
