#!/usr/bin/env bash
# fuzz.sh DURATION — run every fuzz target of the project for DURATION each.
set -euo pipefail
t="${1:-60s}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(scripts/devdb.sh test-url)}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
    echo "== $pkg $f ($t)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg"
  done
done
