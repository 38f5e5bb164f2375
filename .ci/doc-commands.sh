#!/usr/bin/env bash
# Runs every `collide …` command of README.md and docs/*.md as written: now
# the test docs/doctest TestDocCommands (see its doc comment and
# docs/reliability.md). Arguments are documents, e.g. README.md docs/ci.md;
# none means every document (as make doctest).
set -eu
cd "$(dirname "$0")/.."
export TESTCONTAINERS_RYUK_DISABLED=true
if [ $# -gt 0 ]; then
  docs=$(IFS=,; echo "$*")
  exec go test -count=1 -v -timeout 20m -run TestDocCommands ./docs/doctest -doctest.docs "$docs"
fi
exec go test -count=1 -v -timeout 20m -run TestDocCommands ./docs/doctest -doctest.all
