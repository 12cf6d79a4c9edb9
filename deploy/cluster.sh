#!/usr/bin/env bash
# The several-machine deployment of Supermarket Hot Deals, on one machine's loopback, with the
# real parts (docs/scaling.md, "More than one machine (measured on loopback)"):
#
#   clients -> HAProxy :BASE+30 (HTTP, health check GET /readyz)
#     -> `hotdeals serve` replicas :BASE+21, :BASE+22 (same HOTDEALS_SECRET_KEY), each with a
#        libpq multi-host URL over both poolers (its own first), target_session_attrs=read-write
#       -> PgBouncer :BASE+11, :BASE+12 (transaction pooling; one per app machine)
#         -> HAProxy :BASE+5 (TCP; routes to the one node that takes writes, checked with
#            deploy/pg-writable-check.sh, the same test as target_session_attrs=read-write)
#           -> PostgreSQL node1 :BASE+1, node2 :BASE+2
#   pg_auto_failover monitor :BASE keeps node1 and node2 a primary and a synchronous standby,
#   and promotes the standby when the primary is lost.
#
# Usage: deploy/cluster.sh COMMAND DIR
#   start DIR          create and start everything in DIR (new or empty); prints the URLs
#   stop DIR           stop everything started in DIR (the data and logs stay)
#   destroy DIR        stop, then delete DIR
#   status DIR         the monitor's view of the nodes, and which processes still run
#   kill-primary DIR   SIGKILL the primary node's keeper and PostgreSQL, like the power cut of
#                      its machine; prints its name
#   wait-writable DIR [SECONDS]
#                      wait until a node accepts writes; prints its name
#   failover DIR       kill-primary, then wait-writable: one JSON line with the seconds between
#
# Environment (defaults in brackets):
#   HOTDEALS_CLUSTER_BASE_PORT [16400]   the ports above; none may be 5432 or 6379 (keep them
#                                        below the ephemeral range, 32768 and up on Linux)
#   HOTDEALS_CLUSTER_FAILOVER [fast]     fast: tuned health checks and timeouts; default:
#                                        pg_auto_failover's own (a lost primary costs ~50 s)
#   HOTDEALS_CLUSTER_REPLICAS [2]        `hotdeals serve` replicas (1-9)
#   HOTDEALS_CLUSTER_WORKERS [1]         workers per replica
#   HOTDEALS_CLUSTER_TIMEOUT [120]       seconds, the deadline of every wait of `start`
#   HOTDEALS_CLUSTER_PG_BIN [/usr/lib/postgresql/15/bin]
#   HOTDEALS_BIN                         the hotdeals command [the repository's .venv, else PATH]
#   HOTDEALS_ADMIN_TOKEN, HOTDEALS_SECRET_KEY   generated when unset (saved in DIR/cluster.env)
#   Any other HOTDEALS_* setting in the environment reaches the replicas as it is.
#
# Runs as root: it installs the Debian packages when missing (postgresql-15-auto-failover,
# pgbouncer, haproxy) and runs PostgreSQL's tools and PgBouncer as the postgres user (setpriv),
# because they refuse to run as root. Every wait has a deadline and fails with what it waited for.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${HOTDEALS_CLUSTER_BASE_PORT:-16400}
FAILOVER=${HOTDEALS_CLUSTER_FAILOVER:-fast}
REPLICAS=${HOTDEALS_CLUSTER_REPLICAS:-2}
WORKERS=${HOTDEALS_CLUSTER_WORKERS:-1}
TIMEOUT=${HOTDEALS_CLUSTER_TIMEOUT:-120}
PG_BIN=${HOTDEALS_CLUSTER_PG_BIN:-/usr/lib/postgresql/15/bin}
PGBOUNCER=/usr/sbin/pgbouncer
HAPROXY=/usr/sbin/haproxy
STOP_TIMEOUT=30 # seconds for SIGTERM to end a process group, then SIGKILL
MARKER=.hotdeals-cluster

log() { printf 'cluster.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
  sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p' >&2
  exit 2
}

# --- paths and ports -------------------------------------------------------------------------

set_paths() {
  [[ -n ${1:-} ]] || usage
  DIR=$(realpath -m -- "$1")
  MON_PORT=$BASE
  NODE_PORT=([1]=$((BASE + 1)) [2]=$((BASE + 2)))
  ROUTER_PORT=$((BASE + 5))
  PGB_PORT=([1]=$((BASE + 11)) [2]=$((BASE + 12)))
  APP_PORT=()
  for ((i = 1; i <= REPLICAS; i++)); do APP_PORT[i]=$((BASE + 20 + i)); done
  LB_PORT=$((BASE + 30))
  PG_ENV=(
    "XDG_CONFIG_HOME=$DIR/xdg/config" "XDG_DATA_HOME=$DIR/xdg/data"
    "XDG_RUNTIME_DIR=$DIR/xdg/run" "PG_CONFIG=$PG_BIN/pg_config" "PATH=$PG_BIN:$PATH"
    "HOTDEALS_CLUSTER_DIR=$DIR" "LC_ALL=C.UTF-8" # initdb: UTF8 databases, not SQL_ASCII
  )
  # PostgreSQL's tools and PgBouncer refuse root: they run as postgres, with pg_autoctl's
  # configuration and state under DIR instead of the postgres user's home. setpriv execs the
  # command itself; runuser would stay its parent and SIGKILL it 2 s after passing on a
  # SIGTERM, cutting pg_autoctl's orderly stop of PostgreSQL short.
  if (($(id -u) == 0)); then
    AS_POSTGRES=(setpriv --reuid=postgres --regid=postgres --init-groups
      env HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres "${PG_ENV[@]}")
  else
    AS_POSTGRES=(env "${PG_ENV[@]}")
  fi
}

all_ports() { echo "$MON_PORT ${NODE_PORT[*]} $ROUTER_PORT ${PGB_PORT[*]} ${APP_PORT[*]} $LB_PORT"; }

check_settings() {
  if ! [[ $BASE =~ ^[0-9]+$ ]] || ((BASE < 1024 || BASE > 65000)); then
    die "HOTDEALS_CLUSTER_BASE_PORT must be 1024-65000, not '$BASE'"
  fi
  [[ $REPLICAS =~ ^[1-9]$ ]] || die "HOTDEALS_CLUSTER_REPLICAS must be 1-9, not '$REPLICAS'"
  [[ $WORKERS =~ ^[1-9][0-9]?$ ]] || die "HOTDEALS_CLUSTER_WORKERS must be 1-99, not '$WORKERS'"
  [[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "HOTDEALS_CLUSTER_TIMEOUT must be seconds, not '$TIMEOUT'"
  [[ $FAILOVER == fast || $FAILOVER == default ]] ||
    die "HOTDEALS_CLUSTER_FAILOVER must be fast or default, not '$FAILOVER'"
  local port ephemeral
  ephemeral=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  if ((LB_PORT >= ephemeral)); then
    log "warning: ports $BASE-$LB_PORT reach the ephemeral range ($ephemeral+): an outgoing" \
      "connection may take one before it is bound; a base below $((ephemeral - 30)) avoids it"
  fi
  for port in $(all_ports); do
    ((port != 5432 && port != 6379)) || die "port $port is taken by the shared services"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "127.0.0.1:$port is in use: choose another HOTDEALS_CLUSTER_BASE_PORT"
    fi
  done
}

load_env() {
  [[ -f $DIR/$MARKER && -f $DIR/cluster.env ]] || die "$DIR holds no cluster started by cluster.sh"
  # shellcheck source=/dev/null
  source "$DIR/cluster.env"
  BASE=$CLUSTER_BASE_PORT REPLICAS=$CLUSTER_REPLICAS
  set_paths "$DIR"
}

# --- processes ---------------------------------------------------------------------------------

as_postgres() { "${AS_POSTGRES[@]}" "$@"; }

# launch NAME COMMAND...: run in a session (and process group) of its own, output in
# DIR/log/NAME.log, the group's id in DIR/run/NAME.pgid. The group carries HOTDEALS_CLUSTER_DIR
# in its environment, so that stop never signals a group that is not this cluster's.
launch() {
  local name=$1
  shift
  HOTDEALS_CLUSTER_DIR=$DIR setsid "$@" >"$DIR/log/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/run/$name.pgid"
}

# The members of NAME's process group that belong to this cluster (none when it is gone).
group_members() {
  local file=$DIR/run/$1.pgid pgid pid
  [[ -f $file ]] || return 0
  pgid=$(<"$file")
  for pid in $(pgrep -g "$pgid" 2>/dev/null || true); do
    if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "HOTDEALS_CLUSTER_DIR=$DIR"; then
      echo "$pid"
    fi
  done
}

running() { [[ -n $(group_members "$1") ]]; }

signal_group() { # signal_group NAME SIGNAL
  local pgid
  running "$1" || return 0
  pgid=$(<"$DIR/run/$1.pgid")
  kill "-$2" -- "-$pgid" 2>/dev/null || true
}

# SIGTERM to the group's leader (pg_autoctl, pgbouncer, hotdeals serve, haproxy: each stops its
# children in order, e.g. pg_autoctl stops PostgreSQL in fast mode), SIGKILL to the whole group
# after STOP_TIMEOUT; both bounded.
stop_group() {
  local name=$1 deadline started=$EPOCHREALTIME
  if running "$name"; then
    kill -TERM "$(<"$DIR/run/$name.pgid")" 2>/dev/null || signal_group "$name" TERM
    deadline=$((SECONDS + STOP_TIMEOUT))
    while running "$name"; do
      if ((SECONDS >= deadline)); then
        log "$name did not stop within $STOP_TIMEOUT s: SIGKILL"
        signal_group "$name" KILL
        deadline=$((SECONDS + 10))
        while running "$name"; do
          ((SECONDS < deadline)) || die "$name survived SIGKILL for 10 s"
          sleep 0.2
        done
        break
      fi
      sleep 0.1
    done
    log "$name stopped ($(since "$started") s)"
  fi
  rm -f "$DIR/run/$name.pgid"
}

tail_log() { tail -n "${2:-25}" "$DIR/log/$1.log" 2>/dev/null | sed 's/^/    /' >&2 || true; }

# wait_for SECONDS WHAT [--process NAME] COMMAND...: poll COMMAND until it succeeds. Fails at
# the deadline, or at once when the process group NAME (if given) has exited, with its log.
wait_for() {
  local limit=$1 what=$2 process=""
  shift 2
  if [[ $1 == --process ]]; then
    process=$2
    shift 2
  fi
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [[ -n $process ]] && ! running "$process"; then
      tail_log "$process"
      die "$process exited while waiting for $what; log: $DIR/log/$process.log"
    fi
    if ((SECONDS >= deadline)); then
      [[ -n $process ]] && tail_log "$process"
      die "timed out after $limit s waiting for $what"
    fi
    sleep 0.2
  done
}

# bounded SECONDS WHAT LOG COMMAND...: run COMMAND to its end, at most SECONDS, output in LOG.
bounded() {
  local limit=$1 what=$2 name=$3 status=0
  shift 3
  timeout --kill-after=5 "$limit" "$@" >"$DIR/log/$name.log" 2>&1 || status=$?
  if ((status != 0)); then
    tail_log "$name"
    ((status == 124)) && die "$what took over $limit s; log: $DIR/log/$name.log"
    die "$what failed (exit $status); log: $DIR/log/$name.log"
  fi
}

# --- PostgreSQL helpers ------------------------------------------------------------------------

psql_at() { # psql_at PORT USER DB SQL: one value per line, no psqlrc, bounded connect
  PGCONNECT_TIMEOUT=2 "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$1" -U "$2" -d "$3" -c "$4"
}

monitor_sql() { psql_at "$MON_PORT" autoctl_node pg_auto_failover "$1"; }

# Both nodes reported and assigned the given states (e.g. "primary secondary").
nodes_in() {
  local states
  states=$(monitor_sql "select string_agg(reportedstate || '/' || goalstate, ' ' order by nodeid)
                        from pgautofailover.node") || return 1
  [[ $states == "$1" ]]
}

# The node that accepts writes, found as the replicas find it (target_session_attrs).
writable_node() {
  local port
  port=$(PGCONNECT_TIMEOUT=1 "$PG_BIN/psql" -X -q -At -c "show port" \
    "host=127.0.0.1,127.0.0.1 port=${NODE_PORT[1]},${NODE_PORT[2]} dbname=hotdeals
     user=hotdeals target_session_attrs=read-write") || return 1
  case $port in
  "${NODE_PORT[1]}") echo node1 ;;
  "${NODE_PORT[2]}") echo node2 ;;
  *) return 1 ;;
  esac
}

# Config appended to a node's postgresql.conf (it overrides pg_autoctl's include, which sizes
# shared_buffers for a machine of its own: three instances share this one).
tune_postgres() {
  local pgdata=$1
  as_postgres tee "$pgdata/cluster-sh.conf" >/dev/null <<'EOF'
# deploy/cluster.sh: three PostgreSQL instances share one machine.
shared_buffers = '128MB'
effective_cache_size = '1GB'
maintenance_work_mem = '64MB'
wal_keep_size = '256MB'
EOF
  grep -q "cluster-sh.conf" "$pgdata/postgresql.conf" ||
    echo "include 'cluster-sh.conf'" | as_postgres tee -a "$pgdata/postgresql.conf" >/dev/null
}

# fast: the monitor checks every second and gives a silent node 3 s, a primary it cannot reach
# 5 s to drain before the standby may take writes; a primary cut off from the monitor and its
# standby stops taking writes after 3 s (network_partition_timeout < primary_demote_timeout, so
# two primaries never take writes at once). default: pg_auto_failover's own settings.
tune_monitor() {
  [[ $FAILOVER == fast ]] || return 0
  as_postgres tee -a "$DIR/monitor/cluster-sh.conf" >/dev/null <<'EOF'
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 5000
EOF
}

tune_keeper() {
  [[ $FAILOVER == fast ]] || return 0
  as_postgres pg_autoctl config set --pgdata "$1" timeout.network_partition_timeout 3 >/dev/null
}

# --- commands ----------------------------------------------------------------------------------

ensure_packages() {
  local missing=()
  command -v pg_autoctl >/dev/null || missing+=(postgresql-15-auto-failover)
  [[ -x $PGBOUNCER ]] || missing+=(pgbouncer)
  [[ -x $HAPROXY ]] || missing+=(haproxy)
  command -v curl >/dev/null || missing+=(curl)
  ((${#missing[@]} == 0)) && return 0
  (($(id -u) == 0)) || die "missing ${missing[*]}: as root, apt-get install -y ${missing[*]}"
  log "installing ${missing[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

find_hotdeals() {
  if [[ -n ${HOTDEALS_BIN:-} ]]; then
    echo "$HOTDEALS_BIN"
  elif [[ -x $ROOT/.venv/bin/hotdeals ]]; then
    echo "$ROOT/.venv/bin/hotdeals"
  else
    command -v hotdeals || die "no hotdeals command: set HOTDEALS_BIN or run make install"
  fi
}

write_env() {
  local token=${HOTDEALS_ADMIN_TOKEN:-} key=${HOTDEALS_SECRET_KEY:-}
  [[ -n $token ]] || token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  [[ -n $key ]] || key=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
  local nodes="host=127.0.0.1:${NODE_PORT[1]}&host=127.0.0.1:${NODE_PORT[2]}"
  local poolers="host=127.0.0.1:${PGB_PORT[1]}&host=127.0.0.1:${PGB_PORT[2]}"
  local rw="target_session_attrs=read-write"
  local others="host=127.0.0.1:${PGB_PORT[2]}&host=127.0.0.1:${PGB_PORT[1]}"
  (
    umask 077
    cat >"$DIR/cluster.env" <<EOF
# Written by deploy/cluster.sh start: the cluster in $DIR.
CLUSTER_BASE_PORT=$BASE
CLUSTER_REPLICAS=$REPLICAS
CLUSTER_FAILOVER=$FAILOVER
MONITOR_PORT=$MON_PORT
NODE1_PORT=${NODE_PORT[1]}
NODE2_PORT=${NODE_PORT[2]}
ROUTER_PORT=$ROUTER_PORT
PGBOUNCER1_PORT=${PGB_PORT[1]}
PGBOUNCER2_PORT=${PGB_PORT[2]}
APP_PORTS="${APP_PORT[*]}"
LB_PORT=$LB_PORT
LB_URL=http://127.0.0.1:$LB_PORT
# The replicas: through the PgBouncers (odd replicas try the first one first, even ones the
# second), which reach the node that takes writes through the router.
APP_DATABASE_URL='postgresql://hotdeals@/hotdeals?$poolers&$rw&pgbouncer=true'
APP_DATABASE_URL_EVEN='postgresql://hotdeals@/hotdeals?$others&$rw&pgbouncer=true'
# Migrations, db-check, exports: straight to the writable node (analysts' timeouts apply).
DIRECT_DATABASE_URL='postgresql://hotdeals@/hotdeals?$nodes&$rw'
# Analysts through PgBouncer: their own role, without the statement timeout.
ANALYST_DATABASE_URL='postgresql://hotdeals_analyst@/hotdeals?$poolers&$rw&pgbouncer=true'
HOTDEALS_ADMIN_TOKEN='$token'
HOTDEALS_SECRET_KEY='$key'
EOF
  )
}

start_monitor() {
  local started=$EPOCHREALTIME
  bounded "$TIMEOUT" "pg_autoctl create monitor" monitor-create \
    "${AS_POSTGRES[@]}" pg_autoctl create monitor --pgdata "$DIR/monitor" --pgport "$MON_PORT" \
    --hostname 127.0.0.1 --auth trust --no-ssl --pgctl "$PG_BIN/pg_ctl"
  tune_postgres "$DIR/monitor"
  tune_monitor
  as_postgres pg_autoctl config set --pgdata "$DIR/monitor" \
    postgresql.listen_addresses 127.0.0.1 >/dev/null
  launch monitor "${AS_POSTGRES[@]}" pg_autoctl run --pgdata "$DIR/monitor"
  wait_for "$TIMEOUT" "the monitor on port $MON_PORT" --process monitor \
    monitor_sql "select count(*) from pgautofailover.formation"
  log "monitor up on 127.0.0.1:$MON_PORT ($(since "$started") s)"
}

start_node() { # start_node N STATES: create node N, run its keeper, wait for STATES
  local n=$1 states=$2 started=$EPOCHREALTIME
  bounded "$TIMEOUT" "pg_autoctl create postgres (node$n)" "node$n-create" \
    "${AS_POSTGRES[@]}" pg_autoctl create postgres --pgdata "$DIR/node$n" --pgport "${NODE_PORT[n]}" \
    --pghost 127.0.0.1 --listen 127.0.0.1 --hostname 127.0.0.1 --name "node$n" \
    --dbname hotdeals --monitor "$MONITOR_URI" --auth trust --no-ssl --pgctl "$PG_BIN/pg_ctl"
  tune_postgres "$DIR/node$n"
  tune_keeper "$DIR/node$n"
  launch "node$n" "${AS_POSTGRES[@]}" pg_autoctl run --pgdata "$DIR/node$n"
  wait_for "$TIMEOUT" "node$n in state $states" --process "node$n" nodes_in "$states"
  log "node$n up on 127.0.0.1:${NODE_PORT[n]} ($(since "$started") s)"
}

create_roles() {
  local statement=${HOTDEALS_STATEMENT_TIMEOUT_MS:-5000} lock=${HOTDEALS_LOCK_TIMEOUT_MS:-2000}
  # PgBouncer in transaction mode passes no startup options: the timeouts live on the roles.
  psql_at "${NODE_PORT[1]}" postgres hotdeals "
    CREATE ROLE hotdeals LOGIN;
    CREATE ROLE hotdeals_analyst LOGIN IN ROLE hotdeals;
    ALTER DATABASE hotdeals OWNER TO hotdeals;
    ALTER ROLE hotdeals SET statement_timeout = $statement;
    ALTER ROLE hotdeals SET lock_timeout = $lock;
    ALTER ROLE hotdeals_analyst SET statement_timeout = 0;
    ALTER ROLE hotdeals_analyst SET lock_timeout = $lock;" >/dev/null
}

# The router: HAProxy in TCP mode, sending every connection to the node that takes writes. Its
# check runs deploy/pg-writable-check.sh (SHOW transaction_read_only, as libpq's
# target_session_attrs=read-write does) twice a second; a node marked down has its sessions cut,
# so no pooled server connection outlives its node's demotion.
start_router() {
  local conf=$DIR/router.cfg
  cat >"$conf" <<EOF
# deploy/cluster.sh: routes PostgreSQL connections to the node that takes writes.
global
    maxconn 4096
    external-check
    insecure-fork-wanted

defaults
    mode tcp
    timeout connect 1s
    timeout client 1h
    timeout server 1h
    timeout check 2s

listen postgres
    bind 127.0.0.1:$ROUTER_PORT
    balance first
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command $ROOT/deploy/pg-writable-check.sh
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
    server node1 127.0.0.1:${NODE_PORT[1]} check
    server node2 127.0.0.1:${NODE_PORT[2]} check
EOF
  "$HAPROXY" -c -q -f "$conf" || die "haproxy refused $conf"
  launch router "$HAPROXY" -db -f "$conf"
  wait_for "$TIMEOUT" "the router on port $ROUTER_PORT reaching the primary" --process router \
    psql_at "$ROUTER_PORT" postgres postgres "select 1"
}

# PgBouncer: one per app machine (here two, each replica's own listed first in its URL), in
# front of the router, so a failover changes nothing in its configuration.
start_pgbouncer() {
  local n=$1
  local conf=$DIR/pgbouncer/pgbouncer$n.ini
  cat >"$conf" <<EOF
; deploy/cluster.sh: PgBouncer $n, transaction pooling, in front of the router.
[databases]
hotdeals = host=127.0.0.1 port=$ROUTER_PORT dbname=hotdeals

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${PGB_PORT[n]}
unix_socket_dir =
auth_type = trust
auth_file = $DIR/pgbouncer/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
; during a failover no node takes writes for a few seconds: try again after 1 s (default 15 s)
server_login_retry = 1
server_connect_timeout = 2
; a client waiting for a server connection gives up after 5 s
query_wait_timeout = 5
; idle server connections close well before the router's 1 h timeout
server_idle_timeout = 600
EOF
  chmod 644 "$conf"
  launch "pgbouncer$n" "${AS_POSTGRES[@]}" "$PGBOUNCER" "$conf"
  wait_for "$TIMEOUT" "PgBouncer on port ${PGB_PORT[n]}" --process "pgbouncer$n" \
    psql_at "${PGB_PORT[n]}" hotdeals hotdeals "select 1"
}

start_replica() {
  local n=$1 url=$APP_DATABASE_URL
  ((n % 2 == 1)) || url=$APP_DATABASE_URL_EVEN
  launch "app$n" env DATABASE_URL="$url" \
    HOTDEALS_ADMIN_TOKEN="$HOTDEALS_ADMIN_TOKEN" HOTDEALS_SECRET_KEY="$HOTDEALS_SECRET_KEY" \
    "$HOTDEALS" serve --host 127.0.0.1 --port "${APP_PORT[n]}" --workers "$WORKERS"
}

start_haproxy() {
  local conf=$DIR/haproxy.cfg n
  cat >"$conf" <<EOF
# deploy/cluster.sh: HAProxy in front of the replicas.
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    # a replica that refuses the connection: the request goes to another one
    retries 2
    option redispatch

frontend hotdeals
    bind 127.0.0.1:$LB_PORT
    option forwardfor
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fastinter 250ms downinter 500ms fall 2 rise 1
EOF
  for ((n = 1; n <= REPLICAS; n++)); do
    echo "    server app$n 127.0.0.1:${APP_PORT[n]} check" >>"$conf"
  done
  "$HAPROXY" -c -q -f "$conf" || die "haproxy refused $conf"
  launch haproxy "$HAPROXY" -db -f "$conf"
  wait_for "$TIMEOUT" "HAProxy on port $LB_PORT answering /readyz" --process haproxy \
    curl -fsS --max-time 2 "http://127.0.0.1:$LB_PORT/readyz"
}

cmd_start() {
  local started=$EPOCHREALTIME n
  check_settings
  ensure_packages
  HOTDEALS=$(find_hotdeals)
  if [[ -e $DIR && -n $(ls -A "$DIR") ]]; then
    die "$DIR is not empty: start needs a new or empty directory"
  fi
  mkdir -p "$DIR"
  touch "$DIR/$MARKER"
  mkdir -p "$DIR/log" "$DIR/run" "$DIR/pgbouncer" "$DIR/xdg/config" "$DIR/xdg/data" \
    "$DIR/xdg/run"
  chmod 700 "$DIR/xdg/run"
  if (($(id -u) == 0)); then
    chown -R postgres:postgres "$DIR"
    as_postgres test -w "$DIR" ||
      die "the postgres user cannot write $DIR: choose a directory it can reach (e.g. under /tmp)"
  fi
  write_env
  # shellcheck source=/dev/null
  source "$DIR/cluster.env"
  MONITOR_URI="postgres://autoctl_node@127.0.0.1:$MON_PORT/pg_auto_failover?sslmode=disable"
  trap 'status=$?; if ((status != 0)); then log "start failed: stopping what started"; cmd_stop || true; fi' EXIT

  start_monitor
  start_node 1 "single/single"
  start_node 2 "primary/primary secondary/secondary"
  create_roles
  printf '"hotdeals" ""\n"hotdeals_analyst" ""\n"postgres" ""\n' >"$DIR/pgbouncer/userlist.txt"
  chmod 644 "$DIR/pgbouncer/userlist.txt"
  start_router
  for n in 1 2; do start_pgbouncer "$n"; done
  bounded "$TIMEOUT" "hotdeals init-db" init-db \
    env DATABASE_URL="$DIRECT_DATABASE_URL" "$HOTDEALS" init-db
  for ((n = 1; n <= REPLICAS; n++)); do start_replica "$n"; done
  for ((n = 1; n <= REPLICAS; n++)); do
    wait_for "$TIMEOUT" "replica app$n answering /readyz" --process "app$n" \
      curl -fsS --max-time 2 "http://127.0.0.1:${APP_PORT[n]}/readyz"
  done
  start_haproxy
  trap - EXIT
  log "started in $(since "$started") s (failover settings: $FAILOVER)"
  echo "service:   $LB_URL (HAProxy; admin token in $DIR/cluster.env)"
  echo "app URL:   $APP_DATABASE_URL"
  echo "direct:    $DIRECT_DATABASE_URL"
  echo "analysts:  $ANALYST_DATABASE_URL"
}

cmd_stop() {
  [[ -f $DIR/$MARKER ]] || die "$DIR holds no cluster started by cluster.sh"
  local name n
  stop_group haproxy
  for n in 1 2 3 4 5 6 7 8 9; do stop_group "app$n"; done
  for n in 1 2; do stop_group "pgbouncer$n"; done
  stop_group router
  for name in node2 node1 monitor; do stop_group "$name"; done
  for name in "$DIR"/run/*.pgid; do
    [[ -e $name ]] && stop_group "$(basename "$name" .pgid)"
  done
  log "stopped"
}

cmd_destroy() {
  [[ -e $DIR ]] || return 0
  cmd_stop
  rm -rf -- "$DIR"
}

cmd_status() {
  load_env
  as_postgres pg_autoctl show state --pgdata "$DIR/monitor" || true
  local name names=(monitor node1 node2 router pgbouncer1 pgbouncer2) n
  for ((n = 1; n <= REPLICAS; n++)); do names+=("app$n"); done
  for name in "${names[@]}" haproxy; do
    if running "$name"; then echo "$name: running"; else echo "$name: stopped"; fi
  done
  if curl -fsS --max-time 2 "$LB_URL/readyz" >/dev/null 2>&1; then
    echo "service: ready at $LB_URL"
  else
    echo "service: not ready at $LB_URL"
  fi
}

cmd_kill_primary() {
  load_env
  local name
  name=$(monitor_sql "select primary_name from pgautofailover.get_primary('default', 0)") ||
    die "the monitor on port $MON_PORT did not answer"
  [[ $name == node1 || $name == node2 ]] || die "the monitor names no primary ('$name')"
  running "$name" || die "$name is not running"
  signal_group "$name" KILL
  local deadline=$((SECONDS + 10))
  while running "$name"; do
    ((SECONDS < deadline)) || die "$name survived SIGKILL for 10 s"
    sleep 0.05
  done
  echo "$name"
}

cmd_wait_writable() {
  load_env
  local limit=${1:-$TIMEOUT}
  wait_for "$limit" "a node that takes writes" writable_node
  writable_node
}

cmd_failover() {
  local killed node started
  load_env
  killed=$(cmd_kill_primary)
  started=$EPOCHREALTIME
  node=$(cmd_wait_writable 300)
  printf '{"killed": "%s", "new_primary": "%s", "seconds": %s, "settings": "%s"}\n' \
    "$killed" "$node" "$(since "$started")" "$CLUSTER_FAILOVER"
}

command=${1:-}
[[ $# -ge 2 ]] || usage
set_paths "$2"
case $command in
start) cmd_start ;;
stop) cmd_stop ;;
destroy) cmd_destroy ;;
status) cmd_status ;;
kill-primary) cmd_kill_primary ;;
wait-writable) cmd_wait_writable "${3:-}" ;;
failover) cmd_failover ;;
*) usage ;;
esac
