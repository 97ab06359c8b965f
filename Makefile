# ZEGO Token Console. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CGO_ENABLED ?= 1

DEV_DB_URL = $(shell scripts/devdb.sh url)
DEV_MIGRATE_URL = $(shell scripts/devdb.sh migrate-url)
TEST_DB_URL = $(shell scripts/devdb.sh test-url)

.PHONY: help run test bench generate lint fuzz db-start db-stop db-reset build chromium

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Without DATABASE_URL: the private cluster, migrated by its owner role
# console_owner, served as its runtime role console_runtime (see README,
# Database roles). With DATABASE_URL: serve only; migrating is yours.
run: ## start the console on http://localhost:8080 (private PostgreSQL under .data/ unless DATABASE_URL is set)
	go build -o bin/console ./cmd/console
	@if [ -z "$$DATABASE_URL" ]; then set -e; scripts/devdb.sh start; \
		export CONSOLE_MIGRATE_DATABASE_URL="$(DEV_MIGRATE_URL)" DATABASE_URL="$(DEV_DB_URL)" CONSOLE_DEV="$${CONSOLE_DEV:-true}"; \
		echo "bin/console migrate && bin/console db grant console_runtime   (as console_owner)"; \
		bin/console migrate && bin/console db grant console_runtime; fi
	DATABASE_URL="$${DATABASE_URL:-$(DEV_DB_URL)}" CONSOLE_DEV="$${CONSOLE_DEV:-true}" bin/console serve

build: ## build bin/console
	go build -trimpath -o bin/console ./cmd/console

test: ## check generated code and formatting, vet, and run every test with the race detector (starts PostgreSQL, installs Chromium and rsyslog if missing)
	scripts/devdb.sh start
	scripts/ensure-chromium.sh
	scripts/ensure-rsyslog.sh
	go tool templ generate >/dev/null 2>&1
	@if [ -n "$$(git status --porcelain -- '*_templ.go')" ]; then \
		echo "templ output is stale: run 'make generate' and commit the *_templ.go files"; git status --short -- '*_templ.go'; exit 1; fi
	@if [ -n "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'))" ]; then \
		echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'); exit 1; fi
	go vet ./...
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(TEST_DB_URL)}" go test -race -count=1 -timeout 20m ./...

bench: ## run the benchmarks and the load run; writes bench/report.md
	scripts/devdb.sh start
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(TEST_DB_URL)}" scripts/bench.sh

generate: ## regenerate templ components
	go tool templ generate

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'))" || { gofmt -l .; exit 1; }
	go vet ./...

fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	scripts/fuzz.sh $${FUZZTIME:-60s}

db-start: ## start the private PostgreSQL cluster
	scripts/devdb.sh start

db-stop: ## stop the private PostgreSQL cluster
	scripts/devdb.sh stop

db-reset: ## stop the private cluster and delete its data (and the dev master key)
	scripts/devdb.sh reset
	rm -f .data/master.key

chromium: ## install Chromium for the browser tests
	scripts/ensure-chromium.sh
