# collide — make targets. `make run` runs a built-in profile against the
# built-in demo service; `make test` starts the local test servers that are
# installed and runs every test under the race detector.
GO ?= go
export TESTCONTAINERS_RYUK_DISABLED ?= true
PROFILE ?= counter
ARGS ?=

.PHONY: build image run test doctest lint services bench bench-load bench-memory bench-checkers bench-hot bench-spread bench-detect bench-gate bench-shard fuzz clean

build:
	$(GO) build -o bin/collide ./cmd/collide

# The collide image (FROM scratch + a static binary), built locally without a
# registry; deploy/kubernetes runs it. IMAGE=collide:local unless set.
IMAGE ?= collide:local
image:
	@GO=$(GO) ./deploy/image.sh $(IMAGE)

run:
	$(GO) run ./cmd/collide run $(ARGS) $(PROFILE)

services:
	@./.ci/services.sh
	@if [ -x .ci/services-mariadb-redis.sh ] && [ "$$(id -u)" = 0 ]; then ./.ci/services-mariadb-redis.sh || echo "services: MariaDB/Redis not started; their tests will skip"; fi

test: services
	$(GO) test -race -count=1 -timeout 14m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./profiles

# Benchmarks against vegeta and wrk, at scale and of the hot paths; results
# under bench/out/, figures and commands in docs/benchmarks.md (~10 min).
bench: services
	@GO=$(GO) ./bench/run.sh all

bench-load bench-memory:
	@GO=$(GO) ./bench/run.sh tools $(@:bench-%=%) report

bench-checkers: services
	@GO=$(GO) ./bench/run.sh checkers report

bench-hot:
	@GO=$(GO) ./bench/run.sh hot report

bench-spread:
	@GO=$(GO) ./bench/run.sh tools spread report

# collide compare's latency gate: N pairs of same-build runs (want 0
# regressions) and of runs against a 30% slower demo (want ≥ N−1); figures
# and commands in docs/ci.md (~6 min at N=20).
GATE_N ?= 20
bench-gate:
	@GO=$(GO) ./bench/gate/run.sh $(GATE_N)

# Detection rate of every built-in profile: DETECT_N racy and DETECT_N safe
# runs each against the demo (DETECT_DB=sqlite, postgres or mysql); the table and
# the command are in docs/benchmarks.md#detection (~15 min at N=20).
DETECT_N ?= 20
DETECT_DB ?= sqlite
bench-detect:
	$(GO) run ./bench/detect -n $(DETECT_N) -db $(DETECT_DB)

# Sharding (docs/distributed.md): SHARD_PAIRS paired runs per mode of three
# shard containers vs the same workload unsharded (Docker, ~6 min at 20),
# then merge + check time over generated 3-shard histories (SHARD_OPS, ~1 min;
# 10000000 adds ~100 s and ~6 GiB RSS).
SHARD_PAIRS ?= 20
SHARD_OPS ?= 1000000,3000000
bench-shard:
	TESTCONTAINERS_RYUK_DISABLED=true $(GO) test -count=1 -timeout 30m -v -run 'TestShardContainersPairs' ./cmd/collide -shard-pairs $(SHARD_PAIRS)
	$(GO) test -count=1 -timeout 30m -v -run 'TestMergeCapacity' ./cmd/collide -merge-ops $(SHARD_OPS)

clean:
	rm -rf bin runs

# Every `collide …` command of README.md and docs/*.md, run as written
# (docs/doctest TestDocCommands); go test ./... runs only the fast documents.
doctest:
	$(GO) test -count=1 -timeout 20m -run TestDocCommands ./docs/doctest -doctest.all
