#!/usr/bin/env bash
# The npm package: builds it from scratch (scripts/build-js.sh), then runs its tests with
# `node --test`: the API and the conformance vectors (tests/vectors) in Node, examples/worker.js in
# workerd, examples/browser.html and apps bundled by esbuild, webpack and Rollup in Debian's
# headless Chromium. Ends on one count line.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
mkdir -p target
scripts/build-js.sh

if [ ! -x /usr/bin/chromium ]; then
  echo "js-test: installing Debian's chromium for the browser test"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

cd js
LOG="$ROOT/target/js-tests.log"
HUNG="$ROOT/target/js-tests.hung"
rm -f "$HUNG"
# The test files only (`*.test.mjs`): given the folder, `node --test` also runs its helpers
# (vectors.mjs, workerd.mjs, the JWKS server, a worker, the generators) as files of no test,
# each reported as one that passed. The whole suite takes about a minute. A watchdog ends it
# after 20 minutes (TOKENGATE_JS_TEST_LIMIT seconds) instead of holding CI until its own limit,
# and first prints what each of its processes is doing (scripts/stacks.sh: state, CPU time,
# native stack), so a hang is named by its stack, not only by the last test that reported. The
# one hang seen so far (twice) was Node 20 deadlocking in `export()` of a freshly generated key;
# gdb's stack named it (test/keypair.mjs).
set +e
LIMIT="${TOKENGATE_JS_TEST_LIMIT:-1200}"
(
  node --test --test-reporter=tap test/*.test.mjs 2>&1 | tee "$LOG"
  exit "${PIPESTATUS[0]}"
) &
SUITE=$!
(
  for ((i = 0; i < LIMIT; i++)); do
    sleep 1
    kill -0 "$SUITE" 2>/dev/null || exit 0
  done
  touch "$HUNG"
  echo "not ok - js-test: the suite did not finish in $LIMIT s; its processes:" | tee -a "$LOG"
  "$ROOT/scripts/stacks.sh" --kill $(pgrep -P "$SUITE" -f 'node --test') 2>&1 | tee -a "$LOG"
) &
WATCHDOG=$!
wait "$SUITE"
status=$?
wait "$WATCHDOG"
[ -e "$HUNG" ] && status=124
set -e
# The TypeScript definitions compile against the example that uses them.
node_modules/.bin/tsc --noEmit -p test/types/tsconfig.json && echo "ok - TypeScript definitions" | tee -a "$LOG"
awk '/^# pass / { p = $3 } /^# fail / { f = $3 } /^ok - TypeScript/ { p++ }
     END { printf "js tests: %d passed, %d failed\n", p, f }' "$LOG" | tee -a "$LOG"
exit "$status"
