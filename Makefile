# ZEGO Token Console. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CGO_ENABLED ?= 1

DEV_DB_URL = $(shell scripts/devdb.sh url)
DEV_MIGRATE_URL = $(shell scripts/devdb.sh migrate-url)
TEST_DB_URL = $(shell scripts/devdb.sh test-url)

# The served OpenAPI document, and where make api-clients generates the
# clients that internal/web/api/clienttest drives (git-ignored).
API_DOC = internal/web/api/openapi.json
API_CLIENTS = internal/web/api/clienttest
APILINT = tools/apilint
AXE = tools/axe

.PHONY: help run test bench generate lint api-lint api-clients fuzz db-start db-stop db-reset build chromium

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

test: ## check generated code and formatting, vet, and run every test with the race detector (starts PostgreSQL, installs Chromium, rsyslog and axe-core if missing)
	scripts/devdb.sh start
	scripts/ensure-chromium.sh
	scripts/ensure-rsyslog.sh
	go tool templ generate >/dev/null 2>&1
	@if [ -n "$$(git status --porcelain -- '*_templ.go')" ]; then \
		echo "templ output is stale: run 'make generate' and commit the *_templ.go files"; git status --short -- '*_templ.go'; exit 1; fi
	@if [ -n "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'))" ]; then \
		echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'); exit 1; fi
	$(MAKE) --no-print-directory api-lint api-clients $(AXE)/node_modules/.installed
	go vet -tags apiclients ./...
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(TEST_DB_URL)}" go test -tags apiclients -race -count=1 -timeout 20m ./...

bench: ## run the benchmarks and the load run; writes bench/report.md
	scripts/devdb.sh start
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(TEST_DB_URL)}" scripts/bench.sh

generate: ## regenerate templ components
	go tool templ generate

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'))" || { gofmt -l .; exit 1; }
	go vet ./...

api-lint: $(APILINT)/node_modules/.installed ## lint the served OpenAPI document with Redocly and Spectral (pinned in tools/apilint); any warning fails
	cd $(APILINT) && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no-install redocly lint --config redocly.yaml --format=stylish ../../$(API_DOC)
	cd $(APILINT) && npx --no-install spectral lint --ruleset .spectral.yaml --fail-severity=warn ../../$(API_DOC)

$(APILINT)/node_modules/.installed: $(APILINT)/package.json $(APILINT)/package-lock.json
	cd $(APILINT) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# axe-core, pinned, for the browser tests' accessibility check (internal/web/ui).
$(AXE)/node_modules/.installed: $(AXE)/package.json $(AXE)/package-lock.json
	cd $(AXE) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

api-clients: ## generate an oapi-codegen and an ogen client from the served OpenAPI document (git-ignored) and compile them
	rm -rf $(API_CLIENTS)/oapiclient $(API_CLIENTS)/ogenclient
	mkdir -p $(API_CLIENTS)/oapiclient
	go tool oapi-codegen -generate types,client -package oapiclient -o $(API_CLIENTS)/oapiclient/client.gen.go $(API_DOC)
	go tool ogen -loglevel error -config $(API_CLIENTS)/ogen.yml -target $(API_CLIENTS)/ogenclient -package ogenclient -clean $(API_DOC)
	go build ./$(API_CLIENTS)/...

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
