#!/usr/bin/env bash
# Runs every `collide …` command of README.md and docs/*.md as written, in
# the order written, one scratch folder per document (so a document must
# create the files and run folders it uses; the repository's files are
# linked in, as when working from its root), and prints one line per
# command: file:line, exit code, the command, the first line of stderr.
#
#   .ci/doc-commands.sh [FILE.md…]     (default: README.md docs/*.md)
#
# collide is the binary built from this tree. A fenced YAML block after a
# sentence "Save it as `NAME`" is written to NAME first. A command ending in
# " &" (collide demo &) runs in the background until the document's last
# command has run, then gets SIGINT; every other command is bounded by
# DOC_TIMEOUT (default 180 s). $PG and $COLLIDE_DB are the PostgreSQL DSN
# of the tests (COLLIDE_TEST_PG_DSN). An exit of 2 (usage or profile error)
# or a missing file or run folder is what this script finds; 1 (an invariant
# failed, as on the racy demo), 3 for a server the machine lacks and 4 are
# results, not doc errors. Exit: the number of doc errors (at most 100).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$root" && go build -o "$bin/collide" ./cmd/collide) || exit 100
export PATH="$bin:$PATH"
export PG=${COLLIDE_TEST_PG_DSN:-postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable}
export COLLIDE_DB=$PG GITHUB_REPOSITORY=collide-dev/collide GITHUB_SHA=0000000 TESTCONTAINERS_RYUK_DISABLED=true
timeout_s=${DOC_TIMEOUT:-180}
[ $# -gt 0 ] || set -- "$root/README.md" "$root"/docs/*.md
results=$(mktemp)
for doc in "$@"; do
  work=$(mktemp -d)
  export TMP=$work
  # As from the repository's root: its files are there (bench/gate/…).
  for e in "$root"/*; do ln -s "$e" "$work/"; done
  # Files the document tells the reader to save.
  awk -v dir="$work" '
    match($0, /[Ss]ave it as `[^`]+`/) { name = substr($0, RSTART + 12, RLENGTH - 13) }
    /^```/ && fence { fence = 0; if (out) close(out); out = ""; next }
    /^```/ { fence = 1; if (name != "" && $0 ~ /yaml/) { out = dir "/" name; name = "" }; next }
    fence && out { print > out }' "$doc"
  bg=()
  # Fenced lines starting with `collide ` or `go run ./cmd/collide `, with
  # their backslash continuations joined, and a quoted value that goes on
  # over several lines too.
  while IFS=$'\t' read -r n cmd; do
    cmd=$(printf '%s' "$cmd" | sed -e 's/[[:space:]][[:space:]]*#[[:space:]].*$//' -e 's/[[:space:]]*$//' -e 's/^go run \.\/cmd\/collide /collide /')
    if [[ $cmd == *" &" ]]; then
      (cd "$work" && exec bash -c "exec ${cmd% &}" >bg.out 2>bg.err) &
      bg+=($!)
      sleep 2
      printf '%s:%s\tstarted\t%s\t\n' "${doc#$root/}" "$n" "$cmd" | tee -a "$results"
      continue
    fi
    (cd "$work" && timeout -s INT "$timeout_s" bash -c "$cmd" >out 2>err); code=$?
    first=$(grep -v '^run folder:' "$work/err" | head -1)
    printf '%s:%s\texit %s\t%s\t%s\n' "${doc#$root/}" "$n" "$code" "$cmd" "$first" | tee -a "$results"
  done < <(awk '
    /^```/ { fence = !fence; next }
    function open_quote(s,   t) { t = s; sub(/[ \t]+#[ \t].*$/, "", t); return gsub(/\047/, "", t) % 2 }
    fence && cont { l = $0; c = sub(/\\$/, "", l); line = line " " l; if (!c && !open_quote(line)) { print start "\t" line; cont = 0 }; next }
    fence && /^(collide|go run \.\/cmd\/collide) / {
      start = FNR; line = $0
      if (sub(/\\$/, "", line) || open_quote(line)) { cont = 1; next }
      print start "\t" line
    }' "$doc")
  for p in "${bg[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$work"
done
awk -F'\t' '$2 == "exit 2" || ($2 ~ /^exit/ && $4 ~ /no such file|not exist|no run/) { bad++ } END { exit (bad > 100 ? 100 : bad) }' "$results"
code=$?
rm -f "$results"
exit $code
