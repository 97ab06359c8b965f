#!/usr/bin/env bash
# bench.sh — what `make bench` runs: the Go micro-benchmarks, the token issue
# load runs (one console, the database ceiling, two consoles), start-up time,
# and audit browsing and export on a seeded trail; writes bench/report.md.
#
# Everything runs on this machine, against the private cluster (scripts/devdb.sh):
# a fresh database console_bench (dropped and created), migrated by the
# superuser, consoles on 127.0.0.1 serving as the runtime role
# console_bench_runtime, as in production (README: Database roles).
#   TEST_DATABASE_URL     superuser URL of the cluster (make sets it)
#   BENCH_EVENTS          audit events to seed (default 2000000)
#   BENCH_DURATION        length of each load run (default 20s)
#   BENCH_CONCURRENCY     concurrent clients of each load run (default 32)
#   BENCH_SEAL_SAMPLE     events sealed through the normal sealer, to time it (default 20000)
#   BENCH_AUDIT_REQUESTS  timed requests per audit page (default 20)
#   BENCH_PORT            port of the first console; the others use the next ones (default 18080)
#   BENCH_BATCH           tokens per request of the batch API run (default 100)
#   BENCH_PRUNE_EVENTS    events seeded in last month and pruned by dropping its partitions (default 1000000)
#   BENCH_PARTS           what to run, comma-separated: gobench,issue,seal,audit,prune (default all of them)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$(date +%s)

events=${BENCH_EVENTS:-2000000}
duration=${BENCH_DURATION:-20s}
concurrency=${BENCH_CONCURRENCY:-32}
seal_sample=${BENCH_SEAL_SAMPLE:-20000}
audit_requests=${BENCH_AUDIT_REQUESTS:-20}
port=${BENCH_PORT:-18080}
batch=${BENCH_BATCH:-100}
prune_events=${BENCH_PRUNE_EVENTS:-1000000}
parts=",${BENCH_PARTS:-gobench,issue,seal,audit,prune},"
part() { [[ $parts == *",$1,"* ]]; }
server_url=${TEST_DATABASE_URL:-$(scripts/devdb.sh test-url)}

# db_url NAME: the server URL with its database replaced by NAME.
db_url() { echo "$server_url" | sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/$1#"; }
bench_url=$(db_url console_bench)
seal_url=$(db_url console_bench_seal)
prune_url=$(db_url console_bench_prune)
runtime_url=$(echo "$bench_url" | sed -E "s#^(postgres(ql)?://)[^@/]*@#\1console_bench_runtime@#")
psql_bin="$(scripts/devdb.sh bindir 2>/dev/null)/psql"
[ -x "$psql_bin" ] || psql_bin=psql
sql() { "$psql_bin" "$server_url" -qtAX -v ON_ERROR_STOP=1 -c "$1"; }

results=$(mktemp -d "${TMPDIR:-/tmp}/console-bench.XXXXXX")
facts="$results/facts.env"
fact() { echo "$1=$2" >>"$facts"; }
log() { echo "== $(date +%H:%M:%S) $*" >&2; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

log "results in $results"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit (with uncommitted changes)"
fact date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
fact commit "$commit"
fact nproc "$(nproc)"
fact cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
fact memory "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
fact kernel "$(uname -r)"
fact go "$(go env GOVERSION)"
fact postgres "$(sql 'SHOW server_version')"
fact events "$events"
fact duration "$duration"
fact projects 20
fact audit_app 900001
fact audit_requests "$audit_requests"
fact loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"

log "build"
mkdir -p bin bench
go build -trimpath -o bin/console ./cmd/console
go build -trimpath -o bin/loadgen ./cmd/loadgen

if part gobench; then
  log "Go micro-benchmarks"
  failed=""
  for dir in $(grep -rl --include='*_test.go' '^func Benchmark' internal cmd 2>/dev/null | xargs -n1 dirname | sort -u); do
    if ! TEST_DATABASE_URL="$server_url" go test -run '^$' -bench . -benchmem "./$dir/" 2>&1 | grep -v 'testdbconf:' | tee -a "$results/gobench.txt" >&2; then
      failed="$failed $dir"
    fi
  done
  fact gobench_failed "${failed# }"
fi

log "fresh database console_bench"
sql "DROP DATABASE IF EXISTS console_bench WITH (FORCE)"
sql "CREATE DATABASE console_bench"
master_key=$(head -c 32 /dev/urandom | base64)
(umask 077 && echo "$master_key" >"$results/master.key") # to inspect console_bench afterwards
console_env=(DATABASE_URL="$runtime_url" CONSOLE_MIGRATE_DATABASE_URL="$bench_url"
  CONSOLE_MASTER_KEY="$master_key" CONSOLE_API_RATE=1000000 CONSOLE_API_BURST=1000000
  CONSOLE_ADMIN_PASSWORD="bench-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')" CONSOLE_DATA_DIR="$results/data")

# start_console PORT [VAR=VALUE…]: starts a console (with the extra
# settings) and waits for its /readyz; sets console_pid and ready_ms (from
# process start to the first 200).
start_console() {
  local t0 out p=$1
  shift
  t0=$(date +%s%N)
  env "${console_env[@]}" "$@" CONSOLE_ADDR="127.0.0.1:$p" bin/console serve >>"$results/console-$p.log" 2>&1 &
  console_pid=$!
  pids+=("$console_pid")
  out=$(bin/loadgen --wait-ready --url "http://127.0.0.1:$p" --since-ns "$t0") ||
    { tail -20 "$results/console-$p.log" >&2; exit 1; }
  ready_ms=$(echo "$out" | awk '{print $3}')
}

# stop_console PID: SIGTERM, then wait until it has exited.
stop_console() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

log "migrate, grant the runtime role, start-up"
env "${console_env[@]}" bin/console migrate >&2
env "${console_env[@]}" bin/console db grant console_bench_runtime >&2
start_console "$port"
fact startup_first_ms "$ready_ms"
stop_console "$console_pid"
start_console "$port"
pid1=$console_pid
fact startup_ms "$ready_ms"
log "ready after $ready_ms ms"

loadgen() { bin/loadgen --database-url "$bench_url" "$@"; }

# settle NAME: waits until the console's sealer and text indexer have caught
# up with the events of the runs before (both queues empty), so that no run
# pays for another's backlog; the wait goes to the facts as settle_NAME.
settle() {
  local t0 left
  t0=$(date +%s.%N)
  for _ in $(seq 1200); do
    left=$("$psql_bin" "$bench_url" -qtAX -c "SELECT (SELECT count(*) FROM audit_unsealed) + (SELECT count(*) FROM audit_unindexed)")
    [ "$left" = 0 ] && break
    sleep 0.25
  done
  [ "$left" = 0 ] || { log "the sealer and text indexer did not catch up in 300 s ($left events left)"; exit 1; }
  fact "settle_$1" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
}
issue_key=$(CONSOLE_MASTER_KEY="$master_key" loadgen --setup --app-id 4242 --scopes issue --name bench-issue)
url1="http://127.0.0.1:$port"
url2="http://127.0.0.1:$((port + 1))"
run_args=(--app-id 4242 --key "$issue_key" --concurrency "$concurrency" --duration "$duration")

if part issue; then
  # The console as it was before group commit and the API-key cache, on the
  # next port, measured side by side with the current one in this same run.
  start_console "$((port + 2))" CONSOLE_ISSUE_GROUP_MAX=1 CONSOLE_API_KEY_CACHE_TTL=off
  pid_before=$console_pid
  url_before="http://127.0.0.1:$((port + 2))"
  log "warm-up, then the issue API against one console, and the one before, side by side"
  loadgen --url "$url1" "${run_args[@]}" --duration 2s >/dev/null
  loadgen --url "$url_before" "${run_args[@]}" --duration 2s >/dev/null
  settle issue
  fact loadavg_issue "$(cut -d' ' -f1-3 /proc/loadavg)"
  loadgen --url "$url1" "${run_args[@]}" --pid "$pid1" --json >"$results/issue-one.json"
  settle before
  fact loadavg_before "$(cut -d' ' -f1-3 /proc/loadavg)"
  loadgen --url "$url_before" "${run_args[@]}" --pid "$pid_before" --json >"$results/issue-before.json"
  log "one client: the group commit must not delay a lone request"
  settle lone
  fact loadavg_lone "$(cut -d' ' -f1-3 /proc/loadavg)"
  loadgen --url "$url1" "${run_args[@]}" --concurrency 1 --json >"$results/issue-lone.json"
  loadgen --url "$url_before" "${run_args[@]}" --concurrency 1 --json >"$results/issue-lone-before.json"
  stop_console "$pid_before"
  log "database ceiling: the same SQL through pgx, each token its own commit"
  settle ceiling
  fact loadavg_ceiling "$(cut -d' ' -f1-3 /proc/loadavg)"
  loadgen --ceiling "${run_args[@]}" --json >"$results/ceiling.json"
  loadgen --ceiling --ceiling-auth "${run_args[@]}" --json >"$results/ceiling-auth.json"
  log "the batch API, $batch tokens a request"
  fact batch_concurrency "$((concurrency / 4 > 0 ? concurrency / 4 : 1))"
  settle batch
  fact loadavg_batch "$(cut -d' ' -f1-3 /proc/loadavg)"
  loadgen --url "$url1" "${run_args[@]}" --batch "$batch" --concurrency "$((concurrency / 4 > 0 ? concurrency / 4 : 1))" \
    --pid "$pid1" --json >"$results/batch.json"

  log "a second console, and the issue API against both"
  start_console "$((port + 1))"
  pid2=$console_pid
  loadgen --url "$url1,$url2" "${run_args[@]}" --duration 2s >/dev/null
  settle two
  fact loadavg_two "$(cut -d' ' -f1-3 /proc/loadavg)"
  loadgen --url "$url1,$url2" "${run_args[@]}" --pid "$pid1,$pid2" --json >"$results/issue-two.json"
  log "a key revoked while the second console has it cached"
  revoke_key=$(CONSOLE_MASTER_KEY="$master_key" loadgen --setup --app-id 4242 --scopes issue --name bench-revoke)
  CONSOLE_MASTER_KEY="$master_key" loadgen --revoke-check --url "$url2" --key "$revoke_key" --app-id 4242 --json >"$results/revoke.json"
  stop_console "$pid2"
fi

if part seal; then
  log "the normal sealer on $seal_sample events"
  fact loadavg_seal "$(cut -d' ' -f1-3 /proc/loadavg)"
  sql "DROP DATABASE IF EXISTS console_bench_seal WITH (FORCE)"
  sql "CREATE DATABASE console_bench_seal"
  env "${console_env[@]}" CONSOLE_MIGRATE_DATABASE_URL="$seal_url" bin/console dev seed --events "$seal_sample" --seal sealer --vacuum=false --json >"$results/seal-sample.json"
  sql "DROP DATABASE console_bench_seal WITH (FORCE)"
fi

if part audit; then
  log "seed $events audit events"
  env "${console_env[@]}" bin/console dev seed --events "$events" --workers "$(nproc)" --json >"$results/seed.json"
  t0=$(date +%s.%N)
  verify=$(env "${console_env[@]}" bin/console audit verify 2>&1 | head -1) || true
  fact verify_seconds "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
  fact verify_result "$verify"

  log "audit pages"
  fact loadavg_audit "$(cut -d' ' -f1-3 /proc/loadavg)"
  audit_key=$(CONSOLE_MASTER_KEY="$master_key" loadgen --setup --app-ids 900001-900020 --scopes audit:read --name bench-audit)
  loadgen --audit --url "$url1" --key "$audit_key" --app-id 900001 --audit-requests "$audit_requests" --json >"$results/audit.json"

  log "audit export"
  # A warm-up export, not measured (as the issue runs have theirs): the first
  # read of the trail's rows after the seed comes from a cold cache.
  loadgen --export ndjson --url "$url1" --key "$audit_key" --app-id 900001 --json >/dev/null
  fact loadavg_export "$(cut -d' ' -f1-3 /proc/loadavg)"
  for format in csv ndjson; do
    loadgen --export "$format" --url "$url1" --key "$audit_key" --app-id 900001 --pid "$pid1" --json >"$results/export-$format.json"
  done
fi

if part prune; then
  first_of_month=$(date -u +%Y-%m-01)
  log "prune a month of $prune_events events (seeded before $first_of_month) by dropping its partitions"
  sql "DROP DATABASE IF EXISTS console_bench_prune WITH (FORCE)"
  sql "CREATE DATABASE console_bench_prune"
  env "${console_env[@]}" CONSOLE_MIGRATE_DATABASE_URL="$prune_url" bin/console dev seed --events "$prune_events" --days 27 \
    --end "$first_of_month" --workers "$(nproc)" --json >"$results/prune-seed.json"
  fact prune_events "$prune_events"
  fact loadavg_prune "$(cut -d' ' -f1-3 /proc/loadavg)"
  t0=$(date +%s.%N)
  env "${console_env[@]}" CONSOLE_MIGRATE_DATABASE_URL="$prune_url" bin/console audit prune --before "$first_of_month" --yes >"$results/prune.txt" 2>&1 || true
  fact prune_wall_seconds "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
  fact prune_result "$(head -1 "$results/prune.txt")"
  fact prune_months "$(sed -n 's/^whole months dropped as partitions: //p' "$results/prune.txt")"
  fact prune_verify_seconds "$(sed -n 's/^verified the chain first in \([0-9.]*\) s.*/\1/p' "$results/prune.txt")"
  fact prune_seconds "$(sed -n 's/.*; pruned in \([0-9.]*\) s$/\1/p' "$results/prune.txt")"
  fact prune_drop_seconds "$(sed -n "s/^the dropped months' files removed afterwards in \([0-9.]*\) s.*/\1/p" "$results/prune.txt")"
  fact prune_verify_after "$(env "${console_env[@]}" DATABASE_URL="$prune_url" bin/console audit verify 2>&1 | head -1)"
  sql "DROP DATABASE console_bench_prune WITH (FORCE)"
fi

stop_console "$pid1"
fact loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
fact total_seconds "$(($(date +%s) - started))"
bin/loadgen --report "$results" >bench/report.md
log "wrote bench/report.md in $(($(date +%s) - started)) s (raw results in $results)"
