# collide — make targets. `make run` runs a built-in profile against the
# built-in demo service; `make test` starts the local test servers that are
# installed and runs every test under the race detector.
GO ?= go
export TESTCONTAINERS_RYUK_DISABLED ?= true
PROFILE ?= counter
ARGS ?=

.PHONY: build run test lint services bench fuzz clean

build:
	$(GO) build -o bin/collide ./cmd/collide

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

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./profiles

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin runs
