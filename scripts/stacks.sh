#!/usr/bin/env bash
# What a hung process tree is doing, for a test runner's watchdog: each process under the given
# PIDs (and they themselves) with its state, CPU time and kernel wait, and, where gdb can attach,
# its main thread's native stack (a JavaScript or wasm frame shows as `??`; Node's own frames
# name the call it is stuck in). Best effort: prints what it can and always exits 0. With
# --kill, it then ends those processes (SIGKILL).
#
#   scripts/stacks.sh [--kill] PID...
set -uo pipefail
KILL=0
if [ "${1:-}" = "--kill" ]; then
  KILL=1
  shift
fi

# The PIDs below (and including) $1, parents first.
tree() {
  echo "$1"
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do tree "$child"; done
}

ALL=()
for root in "$@"; do
  for pid in $(tree "$root"); do
    ALL+=("$pid")
    [ -d "/proc/$pid" ] || continue
    ps -o pid=,ppid=,stat=,etime=,time=,wchan:24=,args= -p "$pid" | cut -c1-200
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
      node | workerd | chromium | chrome) ;;
      *) continue ;;
    esac
    if command -v gdb >/dev/null 2>&1; then
      timeout 60 gdb -p "$pid" -batch -ex 'bt 24' 2>/dev/null |
        grep -E '^#[0-9]+' | sed -E 's/ \(.*\) at / at /; s/^/    /' | cut -c1-200
    fi
  done
done
if [ "$KILL" -eq 1 ] && [ "${#ALL[@]}" -gt 0 ]; then
  kill -KILL "${ALL[@]}" 2>/dev/null
fi
exit 0
