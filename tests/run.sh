#!/usr/bin/env bash
# Runs the unit tests, then the end-to-end tests, and ends with one plain summary
# line ("N passed, N failed, N skipped") over both. Exit status: non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
config=${CONFIG:-Release}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for project in tests/WriteTracer.Tests tests/WriteTracer.EndToEnd; do
  echo "== $project"
  dotnet test "$project" --nologo -v quiet -c "$config" --logger "console;verbosity=normal" 2>&1 | tee -a "$log"
  (( PIPESTATUS[0] == 0 )) || status=1
done
# Each run closes with "Total tests: T", then "Passed: P", "Failed: F", "Skipped: S" lines as they apply.
awk '/^ *Passed: [0-9]+$/ { passed += $2 } /^ *Failed: [0-9]+$/ { failed += $2 } /^ *Skipped: [0-9]+$/ { skipped += $2 }
  END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
exit $status
