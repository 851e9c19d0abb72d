#!/usr/bin/env bash
# Runs the unit tests, then the end-to-end tests, and ends with one plain summary
# line ("N passed, N failed, N skipped") over both. Exit status: non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
config=${CONFIG:-Release}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# A job started in the background of a non-interactive shell inherits SIGINT and SIGQUIT
# ignored, and an ignored signal stays ignored across exec: the tracer could not receive
# the signals its tests send. They get their default action back here.
for project in tests/WriteTracer.Tests tests/WriteTracer.EndToEnd; do
  echo "== $project"
  env --default-signal=INT,QUIT dotnet test "$project" --nologo -v quiet -c "$config" --logger "console;verbosity=normal" 2>&1 | tee -a "$log"
  (( PIPESTATUS[0] == 0 )) || status=1
done
# The failures again, each with its message's first line, together at the end where a log's tail shows them.
if grep -q '^ *Failed WriteTracer' "$log"; then
  echo "== failed"
  awk '/^ *Failed WriteTracer/ { sub(/^ */, "  "); print; message = 1; next }
    message && /Error Message:/ { getline; sub(/^ */, "    "); print substr($0, 1, 300); message = 0 }' "$log"
fi
# Each run closes with "Total tests: T", then "Passed: P", "Failed: F", "Skipped: S" lines as they apply.
awk '/^ *Passed: [0-9]+$/ { passed += $2 } /^ *Failed: [0-9]+$/ { failed += $2 } /^ *Skipped: [0-9]+$/ { skipped += $2 }
  END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
exit $status
