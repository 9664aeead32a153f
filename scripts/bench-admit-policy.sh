#!/usr/bin/env bash
# In-process cost of `palisade admit --policy` per review: 20 policies (10 gatekeeper-library
# templates x 2 constraints: CEL for the 4 PSP templates, Rego for the 6 others), Pod CREATE
# reviews with two containers, one thread, through `Admitter::admit` (PSA + policies) and the
# policy evaluation alone. Prints p50/p99/max in ns and each constraint's mean cost as JSON
# (crates/palisade-admit/examples/admit_policy_cost.rs).
#
#   scripts/bench-admit-policy.sh                  # 10,000 reviews
#   ITERATIONS=3000 scripts/bench-admit-policy.sh
#   NICE=-10 scripts/bench-admit-policy.sh         # own session at a higher CPU priority (root)
#
# NICE works as in bench-admit.sh: the script re-runs itself in a new session and sets that
# session's autogroup nice, so other sessions' compiles on a shared machine do not take half
# the CPU in the middle of a review (that, not the policies, is what a p99 on a busy 2-core
# machine measures).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${NICE:-}" ] && [ -z "${BENCH_POLICY_SESSION:-}" ] && [ -w /proc/self/autogroup ]; then
  BENCH_POLICY_SESSION=1 exec setsid --wait "$0" "$@"
fi
if [ -n "${BENCH_POLICY_SESSION:-}" ]; then
  echo "$NICE" > /proc/self/autogroup
  echo "== $(cat /proc/self/autogroup) (own session)" >&2
fi

cargo build --release -q -p palisade-admit --example admit_policy_cost
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec target/release/examples/admit_policy_cost --iterations "${ITERATIONS:-10000}"
