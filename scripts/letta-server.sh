#!/usr/bin/env bash
# Runs Letta's own self-hosted REST server (PyPI `letta` 0.16.8) on loopback, with PostgreSQL 16 +
# pgvector from the PyPI package `pgserver`, and no outside network but PyPI for the first install.
#
#   bash scripts/letta-server.sh install  venv + migrations into the git-ignored cache (.cache/letta-server/),
#                                          once; a no-op when cached. Needs Python 3.11-3.13 with venv, and PyPI.
#   bash scripts/letta-server.sh start    install if needed, start PostgreSQL (initdb, database and
#                                          migrations on a fresh data dir), start Letta in the background,
#                                          wait for GET /v1/health/ and print http://127.0.0.1:PORT on the
#                                          last stdout line. Already running: prints the URL again. If Letta
#                                          exits or misses the timeout, shows its log tail, stops both, exits 1.
#   bash scripts/letta-server.sh stop     stops Letta, then PostgreSQL, by their own pids; idempotent.
#   bash scripts/letta-server.sh run      start, then stay in the foreground until SIGINT/SIGTERM (then
#                                          stop) or until Letta exits by itself (then stop, exit 1).
#   bash scripts/letta-server.sh status   exit 0 and print the URL if Letta answers its health check.
#   bash scripts/letta-server.sh lock     re-resolve scripts/letta-server/requirements.txt from
#                                          requirements.in as of letta 0.16.8's release day (~10 min).
# Everything but the URL (and `status`'s URL) goes to stderr: `url=$(bash scripts/letta-server.sh start | tail -n1)`.
#
# Environment (all optional):
#   LETTA_SERVER_CACHE   cache folder: venv, migrations (default .cache/letta-server/ in the repo)
#   LETTA_SERVER_DATA    one server's state: database, Letta's HOME, logs, pids (default $LETTA_SERVER_CACHE/data).
#                        A throwaway path (e.g. a mktemp -d) gives a fresh database; start/stop/run/status
#                        must be called with the same value. Logs: $LETTA_SERVER_DATA/log/{letta,postgres,migrate}.log
#   LETTA_SERVER_PORT    Letta's port on 127.0.0.1 (default 8283)
#   LETTA_PG_PORT        PostgreSQL's port on 127.0.0.1 (default 54329); database, user and password: letta
#   LETTA_SERVER_START_TIMEOUT  seconds to wait for the health check (default 120; 15-25 s here on 2 cores)
#   LETTA_SERVER_PYTHON  the Python to build the venv with (default: the first of python3.11, 3.12, 3.13, python3
#                        that is 3.11-3.13, the versions letta 0.16.8 supports)
#   LETTA_PG_OS_USER     the system user PostgreSQL runs as when this script runs as root (default nobody;
#                        PostgreSQL refuses to run as root). The cache and data paths must be traversable by it.
#   OPENAI_API_KEY, OPENAI_BASE_URL  passed to Letta as they are: its model list, agent steps and embeddings
#                        go there. Point OPENAI_BASE_URL at a local stand-in; unset, Letta would use api.openai.com.
#   LETTA_SERVER_ALLOW_OUTBOUND=1  lets Letta's HTTP clients reach hosts other than loopback and OPENAI_BASE_URL's
#                        host (by default they are sent to a closed loopback port: a proxy setting that fails fast).
#                        Letta still makes one DNS query at start-up: nltk resolves raw.githubusercontent.com
#                        itself before fetching punkt_tab; the fetch then fails on the loopback port, harmlessly.
#   LETTA_*              any other LETTA_ variable of the caller (not LETTA_SERVER_*, LETTA_PG_OS_USER) is passed
#                        on as a Letta setting; the ones this script sets (database, LETTA_DIR, pooling,
#                        telemetry off) win. Nothing else of the caller's environment reaches Letta.
# Letta's HOME and LETTA_DIR live in $LETTA_SERVER_DATA/home, so ~/.letta is never read or written.
set -euo pipefail

letta_version=0.16.8
# sha256 of letta-0.16.8.tar.gz on PyPI (the only place the Alembic migrations ship).
sdist_sha256=363e26989e552c859ce2e7961d484acee6fccfc1e7b16e8f644b1ae1ccd754a3
# Resolution date for `lock`: letta 0.16.8's release day.
uploaded_prior_to=2026-05-15T00:00:00Z

root="$(cd "$(dirname "$0")/.." && pwd)"
reqs="$root/scripts/letta-server/requirements.txt"
port="${LETTA_SERVER_PORT:-8283}"
pg_port="${LETTA_PG_PORT:-54329}"
start_timeout="${LETTA_SERVER_START_TIMEOUT:-120}"
pg_db=letta pg_user=letta pg_password=letta

say() { echo "letta-server: $*" >&2; }
die() { say "$*"; exit 1; }

abspath() { mkdir -p "$1" && (cd "$1" && pwd); }
cache="$(abspath "${LETTA_SERVER_CACHE:-$root/.cache/letta-server}")"
data_arg="${LETTA_SERVER_DATA:-$cache/data}"

src="$cache/letta-$letta_version-migrations"

find_python() {
  local c
  if [ -n "${LETTA_SERVER_PYTHON:-}" ]; then
    "$LETTA_SERVER_PYTHON" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null ||
      die "LETTA_SERVER_PYTHON=$LETTA_SERVER_PYTHON is not a Python 3.11-3.13 (letta $letta_version supports >=3.11,<3.14)"
    echo "$LETTA_SERVER_PYTHON"
    return
  fi
  for c in python3.11 python3.12 python3.13 python3; do
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; then
      echo "$c"
      return
    fi
  done
  die "no Python 3.11-3.13 found (letta $letta_version supports >=3.11,<3.14): install one (Debian bookworm: apt-get install python3 python3-venv) or set LETTA_SERVER_PYTHON"
}

# The venv is named after the Python version and the requirements file, so a new lock builds a new venv.
venv_path() {
  local py="$1" ver
  ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  echo "$cache/venv-py$ver-$(sha256sum "$reqs" | cut -c1-12)"
}

# with_lock FILE: serialise concurrent installs/starts/stops on fd 9 (flock is util-linux; skipped if
# absent). Every long-lived child is started with 9>&- so it never inherits, and so holds, the lock.
# with_lock FILE soft: after 30 s go on without the lock (for stop, which must not hang on a stray holder).
with_lock() {
  if command -v flock >/dev/null; then
    exec 9>"$1"
    if [ "${2:-}" = soft ]; then
      flock -w 30 9 || say "$1 still held after 30 s (by a start under way, or a process that inherited it): going on"
    else
      flock -w 900 9 || die "timed out waiting for $1 (another install/start/stop of the same folder?)"
    fi
  fi
}

install() {
  local py venv tmp
  py="$(find_python)"
  venv="$(venv_path "$py")"
  with_lock "$cache/.install.lock"
  if [ ! -f "$venv/.installed" ]; then
    "$py" -c 'import venv, ensurepip' 2>/dev/null ||
      die "$py has no venv/ensurepip module (Debian/Ubuntu: apt-get install python3-venv, or python3.X-venv for $py)"
    say "installing letta $letta_version and pgserver into $venv (first time only, ~1 GB, a few minutes) ..."
    rm -rf "$venv"
    "$py" -m venv "$venv" >&2
    tmp="$(mktemp -d "$cache/install.XXXXXX")"
    # Every package is hash-checked (--require-hashes) and installed as pinned (--no-deps). The one
    # source-only package (demjson3) is built against the pinned setuptools installed first, not
    # against whatever a build-isolation environment would fetch.
    awk '/^setuptools==/{p=1} p{print} p && !/\\$/{exit}' "$reqs" >"$tmp/setuptools.txt"
    grep -q '^setuptools==' "$tmp/setuptools.txt" || die "no setuptools pin in $reqs"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --require-hashes --no-deps \
      -r "$tmp/setuptools.txt" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --require-hashes --no-deps \
      --no-build-isolation -r "$reqs" >&2 ||
      die "pip install from $reqs failed (it needs PyPI the first time; see above)"
    "$venv/bin/python" -m pip check --disable-pip-version-check >&2 ||
      die "the installed packages do not satisfy each other's requirements (was $reqs made for this Python?)"
    rm -rf "$tmp"
    touch "$venv/.installed"
  fi
  # Alembic migrations: only in the source distribution. Fetched by pip (hash-checked), then only
  # alembic/, alembic.ini and init.sql are kept: the sdist's own letta/ would shadow the installed one.
  if [ ! -f "$src/.ok" ]; then
    say "fetching letta $letta_version's source distribution for its database migrations (first time only) ..."
    tmp="$(mktemp -d "$cache/sdist.XXXXXX")"
    echo "letta==$letta_version --hash=sha256:$sdist_sha256" >"$tmp/req.txt"
    "$venv/bin/python" -m pip download --disable-pip-version-check --no-input --no-deps --no-binary :all: \
      --require-hashes -d "$tmp" -r "$tmp/req.txt" >&2 ||
      die "could not download letta==$letta_version's source distribution from PyPI"
    echo "$sdist_sha256  $tmp/letta-$letta_version.tar.gz" | sha256sum -c --quiet - >&2 ||
      die "letta-$letta_version.tar.gz does not have the pinned sha256 $sdist_sha256"
    tar -xzf "$tmp/letta-$letta_version.tar.gz" -C "$tmp" \
      "letta-$letta_version/alembic" "letta-$letta_version/alembic.ini" "letta-$letta_version/init.sql"
    rm -rf "$src"
    mv "$tmp/letta-$letta_version" "$src"
    rm -rf "$tmp"
    touch "$src/.ok"
  fi
  exec 9>&-
  echo "$venv"
}

# ---- state of one data dir -------------------------------------------------------------------------
setup_data() {
  data="$(abspath "$data_arg")"
  pgdata="$data/pg"
  run="$data/run"
  logs="$data/log"
  home="$data/home"
  mkdir -p "$run" "$logs" "$home"
  chmod 755 "$data"
}

pg_os_user=""
if [ "$(id -u)" = 0 ]; then
  pg_os_user="${LETTA_PG_OS_USER:-nobody}"
  id -u "$pg_os_user" >/dev/null 2>&1 || die "LETTA_PG_OS_USER=$pg_os_user: no such user"
fi

# as_pg CMD...: run a PostgreSQL program as the non-root user (as ourselves when not root), from the data dir.
as_pg() {
  if [ -z "$pg_os_user" ]; then
    (cd "$data" && "$@")
  elif command -v runuser >/dev/null; then
    (cd "$data" && runuser -u "$pg_os_user" -- "$@")
  elif command -v setpriv >/dev/null; then
    (cd "$data" && setpriv --reuid="$(id -u "$pg_os_user")" --regid="$(id -g "$pg_os_user")" --clear-groups -- "$@")
  else
    die "running as root needs runuser or setpriv (util-linux) to start PostgreSQL as $pg_os_user"
  fi
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_is() { pid_alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
healthy() { curl -fsS -m 5 -o /dev/null "http://127.0.0.1:$port/v1/health/" 2>/dev/null; }

pg_pid() { [ -f "$pgdata/postmaster.pid" ] && head -n1 "$pgdata/postmaster.pid" || true; }
letta_pid() { [ -f "$run/letta.pid" ] && cat "$run/letta.pid" || true; }

start_postgres() {
  local venv="$1" pgbin psql pid
  pgbin="$(echo "$venv"/lib/python3*/site-packages/pgserver/pginstall/bin)"
  [ -x "$pgbin/postgres" ] || die "no PostgreSQL binaries at $pgbin (pgserver missing from the venv?)"
  if [ -n "$pg_os_user" ] && ! as_pg test -x "$pgbin/postgres"; then
    die "user $pg_os_user cannot run $pgbin/postgres: a parent folder is not traversable by others; set LETTA_SERVER_CACHE (and LETTA_SERVER_DATA) to a path all users can traverse, e.g. /var/tmp/letta-server"
  fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    say "initialising PostgreSQL in $pgdata ..."
    rm -rf "$pgdata" "$data/.db-ready"
    mkdir -m 700 "$pgdata"
    printf '%s\n' "$pg_password" >"$run/pwfile"
    [ -z "$pg_os_user" ] || chown "$pg_os_user" "$pgdata" "$run/pwfile"
    as_pg "$pgbin/initdb" -D "$pgdata" -U "$pg_user" --pwfile="$run/pwfile" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C >"$logs/initdb.log" 2>&1 || { tail -n 20 "$logs/initdb.log" >&2; die "initdb failed"; }
    rm -f "$run/pwfile"
  fi
  pid="$(pg_pid)"
  if pid_is "$pid" postgres; then
    say "PostgreSQL already running (pid $pid)"
  else
    port_busy "$pg_port" && die "port $pg_port (LETTA_PG_PORT) is already in use on 127.0.0.1"
    touch "$logs/postgres.log"
    [ -z "$pg_os_user" ] || chown "$pg_os_user" "$logs/postgres.log"
    # TCP on 127.0.0.1 only, no Unix socket.
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$logs/postgres.log" -w -t 60 \
      -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >&2 9>&- ||
      { tail -n 20 "$logs/postgres.log" >&2; die "PostgreSQL did not start (log: $logs/postgres.log)"; }
    say "PostgreSQL started on 127.0.0.1:$pg_port (pid $(pg_pid))"
  fi
  # The database as Letta's init.sql sets it up: schema and search_path `letta`, pgvector in it.
  if [ ! -f "$data/.db-ready" ]; then
    psql=(env -i PGPASSWORD="$pg_password" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U "$pg_user")
    if [ -z "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$pg_db'")" ]; then
      "${psql[@]}" -d postgres -c "CREATE DATABASE $pg_db" >&2
    fi
    "${psql[@]}" -d "$pg_db" >&2 <<SQL
CREATE SCHEMA IF NOT EXISTS $pg_db AUTHORIZATION $pg_user;
ALTER DATABASE $pg_db SET search_path TO $pg_db;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA $pg_db;
DROP SCHEMA IF EXISTS public CASCADE;
SQL
    touch "$data/.db-ready"
  fi
}

# Letta's environment: nothing of the caller's but PATH, TZ, OPENAI_API_KEY/OPENAI_BASE_URL and LETTA_* settings.
letta_env() {
  local venv="$1" uri="$2" name
  letta_env=(env -i PATH="$venv/bin:$PATH" LANG=C.UTF-8 PYTHONUNBUFFERED=1)
  [ -z "${TZ:-}" ] || letta_env+=(TZ="$TZ")
  [ -z "${OPENAI_API_KEY+x}" ] || letta_env+=(OPENAI_API_KEY="$OPENAI_API_KEY")
  [ -z "${OPENAI_BASE_URL+x}" ] || letta_env+=(OPENAI_BASE_URL="$OPENAI_BASE_URL")
  while IFS= read -r name; do
    case "$name" in LETTA_SERVER_* | LETTA_PG_OS_USER) continue ;; esac
    letta_env+=("$name=${!name}")
  done < <(compgen -e | grep '^LETTA_' || true)
  letta_env+=(
    HOME="$home" LETTA_DIR="$home/.letta"
    LETTA_PG_URI="$uri"
    # Required: without a pool about one request in five stalls 60 s on a connect that never completes.
    LETTA_DISABLE_SQLALCHEMY_POOLING=false
    # Telemetry off (these are 0.16.8's defaults too, unless the caller's environment says otherwise):
    # OTEL export needs LETTA_OTEL_EXPORTER_OTLP_ENDPOINT, Sentry needs SENTRY_DSN (never passed).
    LETTA_DISABLE_TRACING=true LETTA_TELEMETRY_ENABLE_DATADOG=false LETTA_TELEMETRY_DATADOG_PROFILING_ENABLED=false
    LETTA_STORE_LLM_TRACES=false LETTA_TELEMETRY_PROVIDER_TRACE_BACKEND=postgres
    DD_TRACE_ENABLED=false DD_INSTRUMENTATION_TELEMETRY_ENABLED=false DO_NOT_TRACK=1
    # tiktoken would otherwise cache its downloads in the shared /tmp.
    TIKTOKEN_CACHE_DIR="$home/tiktoken"
  )
  # Outbound guard: HTTP clients that honour proxy variables (urllib, httpx, requests) send anything not
  # for loopback or OPENAI_BASE_URL's host to a closed loopback port, so it fails at once instead of
  # leaving the machine (at start-up Letta calls nltk.download("punkt_tab"), which fetches from GitHub).
  if [ "${LETTA_SERVER_ALLOW_OUTBOUND:-0}" != 1 ]; then
    local no_proxy="127.0.0.1,localhost,::1" base_host
    base_host="$(printf '%s' "${OPENAI_BASE_URL:-}" | sed -E 's#^[a-zA-Z]+://([^/@]*@)?(\[[^]]*\]|[^/:]*).*#\2#; s#^\[(.*)\]$#\1#')"
    [ -z "$base_host" ] || no_proxy="$no_proxy,$base_host"
    letta_env+=(HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9
      https_proxy=http://127.0.0.1:9 NO_PROXY="$no_proxy" no_proxy="$no_proxy")
  fi
}

# DNS guard: the proxy variables stop Letta's HTTP clients, but a library may still look a name up
# (nltk resolves GitHub's host before its download). As root, Letta runs in a mount namespace of its
# own whose /etc/resolv.conf names only 127.0.0.1, so a look-up fails on loopback and no query leaves
# the machine. Sets `guard` to the command prefix (empty when the guard is off or cannot be had).
guard=()
dns_guard() {
  guard=()
  [ "${LETTA_SERVER_ALLOW_OUTBOUND:-0}" = 1 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
    say "no DNS guard (needs root and unshare): a library's name look-up could reach the machine's resolver"
    return 0
  fi
  local conf="$run/resolv.conf"
  echo "nameserver 127.0.0.1" >"$conf"
  # shellcheck disable=SC2016 # $1 and $@ belong to the inner shell.
  guard=(unshare --mount --propagation private -- sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$conf")
}

migrate() {
  local venv="$1" marker="$data/.migrated"
  [ "$(cat "$marker" 2>/dev/null)" = "$letta_version" ] && return 0
  say "creating Letta's tables (alembic upgrade head) ..."
  # The migration tool rejects sslmode, so the URI has none here.
  letta_env "$venv" "postgresql://$pg_user:$pg_password@127.0.0.1:$pg_port/$pg_db"
  if ! (cd "$src" && "${letta_env[@]}" "$venv/bin/alembic" upgrade head) >"$logs/migrate.log" 2>&1; then
    tail -n 30 "$logs/migrate.log" >&2
    exec 9>&-
    say "alembic upgrade head failed (log: $logs/migrate.log); stopping PostgreSQL"
    stop
    exit 1
  fi
  echo "$letta_version" >"$marker"
}

start() {
  local venv pid deadline
  venv="$(install)"
  setup_data
  with_lock "$data/.lock"
  pid="$(letta_pid)"
  if ! pid_is "$pid" "letta server" && port_busy "$port"; then
    die "port $port (LETTA_SERVER_PORT) is already in use on 127.0.0.1"
  fi
  start_postgres "$venv"
  migrate "$venv"
  if pid_is "$pid" "letta server"; then
    say "Letta already running (pid $pid)"
  else
    letta_env "$venv" "postgresql://$pg_user:$pg_password@127.0.0.1:$pg_port/$pg_db?sslmode=disable"
    echo "---- $(date -u +%FT%TZ) letta server on 127.0.0.1:$port" >>"$logs/letta.log"
    # Its own session (process group), so stop can end it and anything it spawned; cwd is its HOME,
    # where it writes openapi_letta.json.
    dns_guard
    (cd "$home" && exec setsid "${letta_env[@]}" "${guard[@]}" "$venv/bin/letta" server --host 127.0.0.1 --port "$port") \
      >>"$logs/letta.log" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$run/letta.pid"
    echo "$port" >"$run/letta.port"
    say "Letta starting on 127.0.0.1:$port (pid $pid, log $logs/letta.log) ..."
  fi
  deadline=$((SECONDS + start_timeout))
  local failed=""
  until healthy; do
    if ! pid_alive "$pid"; then
      failed="Letta exited before answering /v1/health/"
    elif [ "$SECONDS" -ge "$deadline" ]; then
      failed="Letta did not answer http://127.0.0.1:$port/v1/health/ within ${start_timeout}s (LETTA_SERVER_START_TIMEOUT)"
    fi
    if [ -n "$failed" ]; then
      tail -n 40 "$logs/letta.log" >&2
      exec 9>&-
      say "$failed (log: $logs/letta.log); stopping what was started"
      stop
      exit 1
    fi
    sleep 1
  done
  exec 9>&-
  say "Letta is up"
  echo "http://127.0.0.1:$port"
}

stop() {
  local pid i pgbin
  setup_data
  with_lock "$data/.lock" soft
  pid="$(letta_pid)"
  if pid_is "$pid" "letta server"; then
    say "stopping Letta (pid $pid) ..."
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 30); do pid_alive "$pid" || break; sleep 1; done
    if pid_alive "$pid"; then
      say "Letta did not exit in 30 s: killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$run/letta.pid" "$run/letta.port"
  pid="$(pg_pid)"
  if pid_is "$pid" postgres; then
    say "stopping PostgreSQL (pid $pid) ..."
    pgbin="$(dirname "$(readlink -f "/proc/$pid/exe")")"
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop >&2 || {
      say "pg_ctl stop failed: sending SIGQUIT to $pid"
      kill -QUIT "$pid" 2>/dev/null || true
    }
  fi
  exec 9>&-
}

status() {
  setup_data
  local pid
  pid="$(letta_pid)"
  [ -f "$run/letta.port" ] && port="$(cat "$run/letta.port")"
  if pid_is "$pid" "letta server" && healthy; then
    echo "http://127.0.0.1:$port"
  else
    say "not running (data $data)"
    return 1
  fi
}

run_foreground() {
  trap 'trap - INT TERM; stop; exit 0' INT TERM
  start # exits (after stopping what it started) if Letta does not come up
  local pid
  pid="$(letta_pid)"
  while pid_alive "$pid"; do
    sleep 1 &
    wait $! || true
  done
  say "Letta exited by itself (log: $logs/letta.log)"
  trap - INT TERM
  stop
  exit 1
}

lock() {
  local py tool
  py="$(find_python)"
  tool="$cache/lock-tool"
  if [ ! -x "$tool/bin/pip-compile" ]; then
    "$py" -m venv "$tool" >&2
    "$tool/bin/python" -m pip install -q -U pip pip-tools >&2
  fi
  # A current pip resolves as of the release day (--uploaded-prior-to); today's newest mcp/pydantic break 0.16.8.
  (cd "$root" && "$tool/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links --pip-args "--uploaded-prior-to $uploaded_prior_to" \
    -o scripts/letta-server/requirements.txt scripts/letta-server/requirements.in) >&2
  say "wrote $reqs"
}

command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
case "${1:-}" in
  install) install >/dev/null ;;
  start) start ;;
  stop) stop ;;
  run) run_foreground ;;
  status) status ;;
  lock) lock ;;
  *)
    echo "usage: bash scripts/letta-server.sh install|start|stop|run|status|lock (see the header of $0)" >&2
    exit 2
    ;;
esac
