#!/usr/bin/env bash
# bench/gate/run.sh [N] — how often collide compare's latency gate cries wolf,
# and how often it catches a 30% slower service (docs/ci.md).
#
# For each of N pairs (default 20): run bench/gate/latency.yaml twice on the
# same build (A, B) and once against the demo slowed by 30% (C,
# -set target.demo.slowdown=0.3), then `collide compare -fail-on-regression`
# A→B (must not regress) and A→C (must regress; -force, since the override
# changes the profile's hash). Each run is 300 requests in 3 s on loopback.
# Writes $OUT/gate.md and prints the counts; exit 1 when a same-build pair
# regressed or fewer than N−1 slowed pairs did. Runs from the module root.
set -uo pipefail
cd "$(dirname "$0")/../.."
N=${1:-20}
GO=${GO:-go}
OUT=${COLLIDE_BENCH_OUT:-bench/out}
mkdir -p "$OUT/gate"
OUT=$(cd "$OUT" && pwd)
BIN="$OUT/bin/collide"
mkdir -p "$OUT/bin"
$GO build -o "$BIN" ./cmd/collide || exit 1
PROFILE=bench/gate/latency.yaml
run() { # run DIR [SET…]
	local dir=$1; shift
	rm -rf "$dir"
	timeout 120 "$BIN" run -q -format none "$@" -out "$dir" "$PROFILE" >/dev/null 2>&1
	local rc=$?
	[ $rc -eq 0 ] || echo "run $dir: exit $rc" >&2
}
cell() { grep -E '^│ latency incr' | sed -E 's/^│ latency incr[^│]*│[^│]*│ (.*) │$/\1/; s/ +$//; s/ ⚠$//'; }
same=0 slow=0
{
	echo "| pair | same build A→B | regressed | 30% slower A→C | regressed |"
	echo "|---|---|---|---|---|"
} >"$OUT/gate.md"
for i in $(seq 1 "$N"); do
	a="$OUT/gate/$i-a" b="$OUT/gate/$i-b" c="$OUT/gate/$i-c"
	run "$a"; run "$b"; run "$c" -set target.demo.slowdown=0.3
	ab=$("$BIN" compare -fail-on-regression "$a" "$b" 2>/dev/null); rab=$?
	ac=$("$BIN" compare -force -fail-on-regression "$a" "$c" 2>/dev/null); rac=$?
	[ $rab -eq 1 ] && same=$((same + 1))
	[ $rac -eq 1 ] && slow=$((slow + 1))
	yn() { case $1 in 1) echo yes ;; 0) echo no ;; *) echo "error (exit $1)" ;; esac; }
	echo "| $i | $(echo "$ab" | cell) | $(yn $rab) | $(echo "$ac" | cell) | $(yn $rac) |" >>"$OUT/gate.md"
	echo "pair $i: same build regressed: $(yn $rab); slowed regressed: $(yn $rac)"
done
{
	echo
	echo "same build: $same of $N pairs reported a regression; 30% slower: $slow of $N pairs reported"
	echo "($(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
} | tee -a "$OUT/gate.md"
[ "$same" -eq 0 ] && [ "$slow" -ge $((N - 1)) ]
