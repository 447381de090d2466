#!/usr/bin/env bash
# scripts/kafka-broker.sh — a real, throwaway, single-node Apache Kafka broker
# (KRaft mode, broker+controller in one JVM) on 127.0.0.1 for tests.
#
# No Docker: the broker's jars are resolved from Maven Central with `mvn` once
# and cached under ${GRIDPULSE_CACHE:-$HOME/.cache/gridpulse}/kafka-<version>/lib,
# then run with the local Java (>= 17).
#
# Usage:
#   scripts/kafka-broker.sh start [--port N|auto] [--controller-port N] [--timeout S] [--name NAME]
#                                 [--sasl-scram [--tls-pem FILE]]
#       Formats a fresh data dir (temp dir), starts the broker in the background,
#       waits until it answers a Metadata request with itself as a live broker,
#       and prints `KAFKA_BROKERS=127.0.0.1:<port>` as the last (only) stdout line.
#       --sasl-scram: clients must log in with SASL/SCRAM. The printed port is a
#       SASL_PLAINTEXT listener (SCRAM-SHA-256 and -512); the user `gridpulse`
#       is created at format time (kafka-storage format --add-scram) with a
#       password generated now (kept only in the mode-600 state file), and
#       KAFKA_SASL_MECHANISM/USERNAME/PASSWORD lines are printed before the
#       KAFKA_BROKERS line. The --port listener stays PLAINTEXT on 127.0.0.1 for
#       this script's probes and the inter-broker traffic only.
#       --tls-pem FILE (with --sasl-scram): the client listener is SASL_SSL instead,
#       serving the PEM private key (PKCS#8, unencrypted) and certificate chain in
#       FILE; KAFKA_TLS=true is printed too. The caller makes the CA and the cert.
#       Default port 19092; if that port is taken and no --port was given, a free
#       port is chosen (the stdout line tells which). If this instance is already
#       running, just prints the line again. Before returning it also warms up
#       the group coordinator (__consumer_offsets) and producer-id allocation, so
#       the first consumer group / idempotent producer of a test does not hit
#       COORDINATOR_NOT_AVAILABLE / COORDINATOR_LOAD_IN_PROGRESS retries.
#   scripts/kafka-broker.sh start --reuse [--timeout S] [--name NAME]
#   scripts/kafka-broker.sh resume            (same as start --reuse)
#       Restarts a broker stopped with `kill`/`pause` on the same data dir and ports.
#   scripts/kafka-broker.sh kill [--hard] [--name NAME]
#   scripts/kafka-broker.sh pause [--hard]    (same as kill)
#       Stops the JVM (SIGTERM, i.e. a clean shutdown; --hard = SIGKILL, a crash)
#       but keeps the data dir, so `start --reuse` brings the same data back.
#   scripts/kafka-broker.sh stop [--name NAME]
#       Stops the broker (if running) and deletes its data dir. Idempotent.
#   scripts/kafka-broker.sh status [--name NAME]
#       Prints KEY=VALUE lines. Exit 0: running and answering; 1: not running
#       (never started, stopped, or killed with data kept); 2: process alive
#       but not answering.
#   scripts/kafka-broker.sh logs [--name NAME]   Prints the tail of the broker log.
#   scripts/kafka-broker.sh prefetch
#       Only resolves/caches the jars (CI warm-up); needs java + mvn.
#
# Exit code 3 means a prerequisite is missing (no java >= 17, or jars not cached
# and no mvn): callers may skip Kafka tests on it.
#
# Environment:
#   GRIDPULSE_CACHE        cache root (default $HOME/.cache/gridpulse)
#   KAFKA_BROKER_VERSION   Kafka version to run (default: pinned below)
#   KAFKA_BROKER_HEAP      JVM heap options (default "-Xms256m -Xmx512m")
#   KAFKA_BROKER_JVM_OPTS  extra JVM options for the broker
#   KAFKA_BROKER_TIMEOUT   start timeout in seconds (default 90)
#   JAVA_HOME              used if set, else `java` from PATH
#
# The broker log is $CACHE/kafka-run/<name>.log (kept after stop, truncated on
# a fresh start, appended to on --reuse). The state file is
# $CACHE/kafka-run/<name>.state.
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
# Kafka 4.1.2: newest patch release of the 4.1 line on Maven Central. Verified
# with kafkajs 2.2.4 (admin createTopics, idempotent producer with acks=-1,
# consumer group, restart on kept data); 4.0.1, 4.2.1, 4.3.1 and 4.4.0 passed
# the same check (KAFKA_BROKER_VERSION=... to try one).
readonly DEFAULT_KAFKA_VERSION="4.1.2"
readonly LOG4J_VERSION="2.24.3"               # log4j2 backend, as Kafka 4.x ships
readonly DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

KAFKA_VERSION="${KAFKA_BROKER_VERSION:-$DEFAULT_KAFKA_VERSION}"
CACHE_ROOT="${GRIDPULSE_CACHE:-${HOME:-/tmp}/.cache/gridpulse}"
KAFKA_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIB_DIR="$KAFKA_DIR/lib"
RUN_DIR="$CACHE_ROOT/kafka-run"
DEFAULT_PORT=19092

PROG="kafka-broker"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

missing_prereq() {
  {
    echo "=================================================================="
    echo "$PROG: MISSING PREREQUISITE: $*"
    echo "$PROG: cannot run a Kafka broker here; exiting with code 3"
    echo "$PROG: (callers may skip Kafka-backed tests on exit code 3)"
    echo "=================================================================="
  } >&2
  exit 3
}

now_s() { printf '%s' "${EPOCHREALTIME:-$(date +%s.%N)}"; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- java / maven ------------------------------------------------------------
JAVA=""
require_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    JAVA="$(command -v java)"
  else
    missing_prereq "'java' not found (need Java 17+; e.g. apt-get install openjdk-17-jre-headless)"
  fi
  local out first major
  out="$("$JAVA" -version 2>&1)" || missing_prereq "'$JAVA -version' failed: $out"
  first="${out%%$'\n'*}"
  major="$(sed -n 's/.*version "\([0-9][0-9]*\)\.\{0,1\}\([0-9]*\).*/\1 \2/p' <<<"$first")"
  if [[ "$major" == 1\ * ]]; then major="${major#1 }"; else major="${major%% *}"; fi
  if [[ ! "$major" =~ ^[0-9]+$ ]] || (( major < 17 )); then
    missing_prereq "Java 17+ required, found: $first ($JAVA)"
  fi
}

pom_xml() {
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by scripts/kafka-broker.sh: runtime classpath of a Kafka $KAFKA_VERSION broker -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.gridpulse</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- core broker (kafka.Kafka, kafka.tools.StorageTool) + its runtime deps:
         kafka-server, -metadata, -raft, -storage, coordinators, clients, scala, jackson, slf4j-api -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- logging backend (the kafka_2.13 pom declares only slf4j-api / log4j-api) -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
}

lib_is_complete() {
  local want="$1"
  [[ -f "$LIB_DIR/.complete" && "$(cat "$LIB_DIR/.complete")" == "$want" ]] &&
    compgen -G "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null
}

resolve_jars() {
  local pom stamp t0
  pom="$(pom_xml)"
  stamp="$(printf '%s' "$pom" | sha256sum | cut -d' ' -f1)"
  lib_is_complete "$stamp" && return 0

  command -v mvn >/dev/null 2>&1 ||
    missing_prereq "'mvn' not found and Kafka $KAFKA_VERSION jars are not cached in $LIB_DIR (apt-get install maven)"

  mkdir -p "$KAFKA_DIR"
  # Serialise concurrent resolutions of the same version.
  exec 8>"$KAFKA_DIR/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 900 8 || die "timed out waiting for the lock on $KAFKA_DIR/.lock"
  fi
  if lib_is_complete "$stamp"; then exec 8>&-; return 0; fi
  rm -rf "$KAFKA_DIR"/lib.tmp.*   # left by an interrupted earlier resolution

  t0="$(now_s)"
  log "resolving Kafka $KAFKA_VERSION jars with Maven into $LIB_DIR (first run only) ..."
  printf '%s\n' "$pom" >"$KAFKA_DIR/pom.xml"
  local tmp mvn_log
  tmp="$(mktemp -d "$KAFKA_DIR/lib.tmp.XXXXXX")"
  mvn_log="$KAFKA_DIR/mvn.log"
  if ! mvn -B -q -f "$KAFKA_DIR/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    rm -rf "$tmp"
    tail -n 40 "$mvn_log" >&2 || true
    die "Maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (full log: $mvn_log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" && -f "$tmp/kafka-server-$KAFKA_VERSION.jar" ]] || {
    rm -rf "$tmp"; die "Maven finished but the Kafka jars are missing (see $mvn_log)"; }
  printf '%s\n' "$stamp" >"$tmp/.complete"
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  exec 8>&-
  log "resolved $(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $(elapsed "$t0")s"
}

# ---- state -------------------------------------------------------------------
NAME="default"
S_STATUS="" S_PID="" S_PORT="" S_CPORT="" S_DATA="" S_VERSION="" S_SASL_PORT="" S_SASL_PASSWORD=""
S_TLS_PEM=""
readonly SCRAM_USER="gridpulse"
state_file() { printf '%s/%s.state' "$RUN_DIR" "$NAME"; }
log_file() { printf '%s/%s.log' "$RUN_DIR" "$NAME"; }

load_state() {
  S_STATUS="" S_PID="" S_PORT="" S_CPORT="" S_DATA="" S_VERSION="" S_SASL_PORT="" S_SASL_PASSWORD=""
  S_TLS_PEM=""
  local f k v
  f="$(state_file)"
  [[ -f "$f" ]] || return 1
  while IFS='=' read -r k v; do
    case "$k" in
      STATUS) S_STATUS="$v" ;; PID) S_PID="$v" ;; PORT) S_PORT="$v" ;;
      CONTROLLER_PORT) S_CPORT="$v" ;; DATA_DIR) S_DATA="$v" ;; VERSION) S_VERSION="$v" ;;
      SASL_PORT) S_SASL_PORT="$v" ;; SASL_PASSWORD) S_SASL_PASSWORD="$v" ;; TLS_PEM) S_TLS_PEM="$v" ;;
    esac
  done <"$f"
  return 0
}

save_state() { # status pid
  mkdir -p "$RUN_DIR"
  local f tmp
  f="$(state_file)"
  tmp="$f.tmp.$$"
  ( umask 077; : >"$tmp" )   # it may hold the SCRAM password
  {
    echo "STATUS=$1"
    echo "PID=$2"
    echo "PORT=$S_PORT"
    echo "CONTROLLER_PORT=$S_CPORT"
    echo "DATA_DIR=$S_DATA"
    echo "VERSION=$S_VERSION"
    echo "SASL_PORT=$S_SASL_PORT"
    echo "SASL_PASSWORD=$S_SASL_PASSWORD"
    echo "TLS_PEM=$S_TLS_PEM"
    echo "LOG=$(log_file)"
    echo "UPDATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$tmp"
  mv -f "$tmp" "$f"
}

# True if $1 is a live Kafka JVM started by us for data dir $2.
is_our_broker() {
  local pid="$1" data="$2" cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *kafka.Kafka* && "$cmd" == *"$data/config/server.properties"* ]] || return 1
  # a zombie counts as dead
  [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]]
}

safe_rm_data() {
  local d="$1"
  if [[ -n "$d" && -d "$d" && "$(basename "$d")" == gridpulse-kafka.* ]]; then
    rm -rf -- "$d"
  fi
}

# Stop the JVM: TERM (clean shutdown, waits up to 30 s) then KILL; or KILL at once.
stop_jvm() { # pid data hard
  local pid="$1" data="$2" hard="${3:-0}" i
  is_our_broker "$pid" "$data" || return 0
  if [[ "$hard" == 1 ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
      is_our_broker "$pid" "$data" || break
      sleep 0.1
    done
    if is_our_broker "$pid" "$data"; then
      log "broker pid $pid did not exit within 30 s of SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  for ((i = 0; i < 100; i++)); do
    is_our_broker "$pid" "$data" || return 0
    sleep 0.1
  done
  die "could not stop broker pid $pid"
}

# ---- ports / probing -----------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_free_port() { # [exclude]
  local exclude="${1:-}" p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    [[ "$p" == "$exclude" ]] && continue
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "could not find a free port"
}

# One request/response on a fresh connection, in plain bash: kafka_request PORT
# HEX-ESCAPED-REQUEST N prints the first N response bytes (decimal, spaced).
# Requests use non-flexible API versions (request header v1, response header
# v0), correlation id 7, client id "probe"; all still supported by Kafka 4.x.
kafka_request() { # port request nbytes
  # shellcheck disable=SC2016
  timeout 2 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "$2" >&3
    head -c "$3" <&3 | od -An -v -tu1
  ' _ "$@" 2>/dev/null
}

# bytes 0-3 size, 4-7 correlation id; prints the int16 at byte offset $2
# (error code) or the int32 at offset $3 (count) of a response in $1.
response_int16() { # "bytes" offset
  local -a b
  read -r -a b <<<"$1"
  ((${#b[@]} >= $2 + 2)) && ((b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 7)) || return 1
  echo $(((b[$2] << 8 | b[$2 + 1]) << 16 >> 16))
}

# Metadata v4 (no topics): succeeds if the broker answers with at least one live
# broker, i.e. it is started, unfenced and serving requests.
probe_broker() { # port
  local out
  # size=20 | api_key=3 v4 | corr=7 | client_id="probe" | topics=[] | allow_auto_topic_creation=false
  out="$(kafka_request "$1" '\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x07\x00\x05probe\x00\x00\x00\x00\x00' 16)" || return 1
  local -a b
  read -r -a b <<<"$out"
  ((${#b[@]} == 16)) && ((b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 7)) || return 1
  # response: size(4) correlation_id(4) throttle_ms(4) broker_count(4)
  (((b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15]) >= 1))
}

# Best effort, after the broker is ready: make the first consumer group and the
# first idempotent producer of a test not hit COORDINATOR_NOT_AVAILABLE /
# COORDINATOR_LOAD_IN_PROGRESS (creates __consumer_offsets, fetches a producer-id
# block). Never fails the start.
warm_up() { # port deadline_epoch_s
  local port="$1" deadline="$2" out ec fc_ok=0 ip_ok=0
  while (($(date +%s) < deadline)); do
    if ((fc_ok == 0)); then
      # FindCoordinator v1: key="gridpulse-warmup" key_type=0 (group); error code at byte 12
      out="$(kafka_request "$port" '\x00\x00\x00\x22\x00\x0a\x00\x01\x00\x00\x00\x07\x00\x05probe\x00\x10gridpulse-warmup\x00' 14)" &&
        ec="$(response_int16 "$out" 12)" && ((ec == 0)) && fc_ok=1
    fi
    if ((ip_ok == 0)); then
      # InitProducerId v1: transactional_id=null timeout=60000; error code at byte 12
      out="$(kafka_request "$port" '\x00\x00\x00\x15\x00\x16\x00\x01\x00\x00\x00\x07\x00\x05probe\xff\xff\x00\x00\xea\x60' 14)" &&
        ec="$(response_int16 "$out" 12)" && ((ec == 0)) && ip_ok=1
    fi
    ((fc_ok == 1 && ip_ok == 1)) && return 0
    sleep 0.2
  done
  log "warning: warm-up incomplete (group coordinator ok=$fc_ok, producer ids ok=$ip_ok); clients will retry"
}

# ---- config files ----------------------------------------------------------------
write_configs() { # data port cport [sasl_port [tls_pem]]
  local data="$1" port="$2" cport="$3" sport="${4:-}" pem="${5:-}"
  local sasl=SASL_PLAINTEXT
  [[ -n "$pem" ]] && sasl=SASL_SSL
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
  local advertised="PLAINTEXT://127.0.0.1:$port"
  local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ -n "$sport" ]]; then
    listeners+=",$sasl://127.0.0.1:$sport"
    advertised+=",$sasl://127.0.0.1:$sport"
    protocols+=",$sasl:$sasl"
  fi
  mkdir -p "$data/config" "$data/kraft-logs"
  cat >"$data/config/server.properties" <<EOF
# generated by scripts/kafka-broker.sh (Kafka $KAFKA_VERSION, single node, KRaft)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners
advertised.listeners=$advertised
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
log.dirs=$data/kraft-logs

auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.retention.check.interval.ms=300000

# small machine (2 cores), fast start
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=33554432
broker.heartbeat.interval.ms=500
# after a crash (kill --hard) the restarted broker cannot register until the old
# session expires: keep that short (default 9000)
broker.session.timeout.ms=4000
controller.quorum.election.timeout.ms=500
EOF
  if [[ -n "$sport" ]]; then
    # SCRAM credentials live in the cluster metadata (created by format --add-scram); the
    # listener's login modules need no users of their own.
    cat >>"$data/config/server.properties" <<EOF

# --sasl-scram: the client listener
listener.name.${sasl,,}.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.${sasl,,}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.${sasl,,}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  fi
  if [[ -n "$pem" ]]; then
    cat >>"$data/config/server.properties" <<EOF
# --tls-pem: key and chain in one PEM file (no key password: the key is not encrypted)
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$pem
EOF
  fi
  cat >"$data/config/log4j2.properties" <<EOF
# generated by scripts/kafka-broker.sh: everything to one file, warnings only
status = error
name = gridpulse-kafka
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $(log_file)
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
# a few lifecycle lines ("Kafka Server started", version, shutdown)
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser
logger.appinfo.level = INFO
EOF
}

# ---- commands ------------------------------------------------------------------
cmd_prefetch() {
  require_java
  local t0
  t0="$(now_s)"
  resolve_jars
  log "Kafka $KAFKA_VERSION jars ready in $LIB_DIR ($(elapsed "$t0")s)"
}

print_brokers() { # port (the client port: SASL_PLAINTEXT for a --sasl-scram broker)
  if [[ -n "$S_SASL_PORT" ]]; then
    echo "KAFKA_SASL_MECHANISM=scram-sha-256"
    echo "KAFKA_SASL_USERNAME=$SCRAM_USER"
    echo "KAFKA_SASL_PASSWORD=$S_SASL_PASSWORD"
    [[ -n "$S_TLS_PEM" ]] && echo "KAFKA_TLS=true"
    echo "KAFKA_BROKERS=127.0.0.1:$S_SASL_PORT"
  else
    echo "KAFKA_BROKERS=127.0.0.1:$1"
  fi
}

# set during `start` so a failure (or Ctrl-C) cleans up
START_PID="" START_DATA="" START_REUSE=0 START_OK=0
on_start_exit() {
  local rc=$?
  ((START_OK == 1)) && return 0
  if [[ -n "$START_PID" ]]; then
    kill -KILL "$START_PID" 2>/dev/null || true
    wait "$START_PID" 2>/dev/null || true   # reap it (and keep bash's "Killed" notice quiet)
  fi
  if [[ -n "$START_DATA" ]]; then
    if ((START_REUSE == 1)); then
      S_DATA="$START_DATA"; save_state killed ""
      log "start --reuse failed; data dir kept: $START_DATA"
    else
      safe_rm_data "$START_DATA"
      rm -f "$(state_file)"
    fi
  fi
  exit "$rc"
}

cmd_start() {
  local port="" cport="" reuse=0 timeout="${KAFKA_BROKER_TIMEOUT:-90}" explicit_port=0 scram=0 pem=""
  while (($#)); do
    case "$1" in
      --port) port="${2:?--port needs a value}"; explicit_port=1; shift 2 ;;
      --port=*) port="${1#*=}"; explicit_port=1; shift ;;
      --controller-port) cport="${2:?--controller-port needs a value}"; shift 2 ;;
      --controller-port=*) cport="${1#*=}"; shift ;;
      --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
      --timeout=*) timeout="${1#*=}"; shift ;;
      --reuse) reuse=1; shift ;;
      --sasl-scram) scram=1; shift ;;
      --tls-pem) pem="${2:?--tls-pem needs a file}"; shift 2 ;;
      --name) NAME="${2:?--name needs a value}"; shift 2 ;;
      --name=*) NAME="${1#*=}"; shift ;;
      *) die "start: unknown argument '$1'" ;;
    esac
  done
  [[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds"
  if [[ -n "$pem" ]]; then
    ((scram == 1)) || die "--tls-pem needs --sasl-scram"
    [[ -r "$pem" ]] || die "--tls-pem: cannot read $pem"
    pem="$(cd "$(dirname "$pem")" && pwd)/$(basename "$pem")"
  fi
  local t0
  t0="$(now_s)"

  if load_state; then
    if [[ "$S_STATUS" == running ]] && is_our_broker "$S_PID" "$S_DATA"; then
      if probe_broker "$S_PORT"; then
        log "broker '$NAME' already running (pid $S_PID)"
        print_brokers "$S_PORT"
        return 0
      fi
      die "broker '$NAME' (pid $S_PID) is running but not answering; run '$0 stop' first"
    fi
    if ((reuse == 0)); then
      # a fresh start discards whatever an earlier (killed/crashed) run left
      safe_rm_data "$S_DATA"
      rm -f "$(state_file)"
    fi
  fi

  if ((reuse == 1)); then
    [[ -n "$S_DATA" && -f "$S_DATA/config/server.properties" && -d "$S_DATA/kraft-logs" ]] ||
      die "start --reuse: no stopped broker '$NAME' with kept data (use 'kill' to stop one while keeping data)"
    if [[ -n "$port" && "$port" != "$S_PORT" ]]; then
      die "start --reuse always uses the old port $S_PORT"
    fi
    if [[ -n "$S_VERSION" && "$S_VERSION" != "$KAFKA_VERSION" ]]; then
      # restart with the version that wrote the data
      KAFKA_VERSION="$S_VERSION" KAFKA_DIR="$CACHE_ROOT/kafka-$S_VERSION"
      LIB_DIR="$KAFKA_DIR/lib"
    fi
    port="$S_PORT" cport="$S_CPORT"
    ((scram == 0)) || [[ -n "$S_SASL_PORT" ]] || die "start --reuse --sasl-scram: broker '$NAME' was started without SCRAM"
  fi

  require_java
  resolve_jars

  local i
  if ((reuse == 1)); then
    for ((i = 0; i < 100; i++)); do
      port_in_use "$port" || port_in_use "$cport" || break
      sleep 0.1
    done
    port_in_use "$port" && die "port $port (needed by start --reuse) is in use by another process"
    port_in_use "$cport" && die "controller port $cport (needed by start --reuse) is in use by another process"
  else
    if [[ -z "$port" ]]; then
      port="$DEFAULT_PORT"
      if port_in_use "$port"; then
        port="$(pick_free_port)"
        log "default port $DEFAULT_PORT is in use; using free port $port instead"
      fi
    elif [[ "$port" == auto || "$port" == 0 ]]; then
      port="$(pick_free_port)"
    else
      [[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number or 'auto'"
      ((explicit_port == 1)) && port_in_use "$port" && die "port $port is already in use"
    fi
    if [[ -z "$cport" ]]; then
      cport=$((port + 1))
      if ((cport > 65535)) || port_in_use "$cport"; then cport="$(pick_free_port "$port")"; fi
    else
      [[ "$cport" =~ ^[0-9]+$ ]] || die "--controller-port must be a number"
      port_in_use "$cport" && die "controller port $cport is already in use"
    fi
    [[ "$cport" != "$port" ]] || die "broker and controller ports must differ"
    S_SASL_PORT="" S_SASL_PASSWORD="" S_TLS_PEM="$pem"
    if ((scram == 1)); then
      S_SASL_PORT="$(pick_free_port "$port")"
      while [[ "$S_SASL_PORT" == "$cport" ]]; do S_SASL_PORT="$(pick_free_port "$port")"; done
      # 24 random bytes, base64url: no ',', '[' or ']' to break the --add-scram syntax
      S_SASL_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    fi
  fi

  mkdir -p "$RUN_DIR"
  local logf data
  logf="$(log_file)"
  START_REUSE="$reuse"
  trap on_start_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local -a java_opts=(
    -XX:+UseSerialGC -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
  )

  if ((reuse == 1)); then
    data="$S_DATA"
    START_DATA="$data"
    printf '\n===== %s: restart (--reuse) on %s =====\n' "$(date -u +%FT%TZ)" "$data" >>"$logf"
    write_configs "$data" "$port" "$cport" "$S_SASL_PORT" "$S_TLS_PEM"   # same ports and dirs; picks up script changes
  else
    data="$(mktemp -d "${TMPDIR:-/tmp}/gridpulse-kafka.XXXXXX")"
    START_DATA="$data"
    : >"$logf"
    write_configs "$data" "$port" "$cport" "$S_SASL_PORT" "$S_TLS_PEM"
    local -a scram_users=()
    if [[ -n "$S_SASL_PORT" ]]; then
      scram_users=(
        --add-scram "SCRAM-SHA-256=[name=$SCRAM_USER,password=$S_SASL_PASSWORD]"
        --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$S_SASL_PASSWORD]"
      )
    fi
    # random cluster id: 16 random bytes, base64url without padding (= Uuid.randomUuid format)
    local cluster_id
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    if ! "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 "${java_opts[@]}" \
          -Dlog4j2.configurationFile="$data/config/log4j2.properties" \
          -cp "$LIB_DIR/*" kafka.tools.StorageTool format \
          --cluster-id="$cluster_id" -c "$data/config/server.properties" \
          "${scram_users[@]+"${scram_users[@]}"}" >>"$logf" 2>&1 </dev/null; then
      tail -n 40 "$logf" >&2 || true
      die "formatting the Kafka storage failed (log: $logf)"
    fi
  fi

  S_PORT="$port" S_CPORT="$cport" S_DATA="$data" S_VERSION="$KAFKA_VERSION"
  if [[ -n "$S_SASL_PORT" ]]; then
    for ((i = 0; i < 100; i++)); do port_in_use "$S_SASL_PORT" || break; sleep 0.1; done
    port_in_use "$S_SASL_PORT" && die "SASL port $S_SASL_PORT is in use by another process"
  fi
  # shellcheck disable=SC2086  # heap/extra opts are word lists on purpose
  setsid "$JAVA" ${KAFKA_BROKER_HEAP:--Xms256m -Xmx512m} "${java_opts[@]}" \
    ${KAFKA_BROKER_JVM_OPTS:-} \
    -Dlog4j2.configurationFile="$data/config/log4j2.properties" \
    -cp "$LIB_DIR/*" kafka.Kafka "$data/config/server.properties" \
    </dev/null >>"$logf" 2>&1 &
  START_PID=$!
  save_state running "$START_PID"

  local deadline
  deadline=$(($(date +%s) + timeout))
  while :; do
    if ! is_our_broker "$START_PID" "$data"; then
      echo "----- last lines of $logf -----" >&2
      tail -n 60 "$logf" >&2 || true
      die "the Kafka broker exited during startup (log: $logf)"
    fi
    if probe_broker "$port"; then break; fi
    if (($(date +%s) >= deadline)); then
      echo "----- last lines of $logf -----" >&2
      tail -n 60 "$logf" >&2 || true
      die "the Kafka broker did not become ready within ${timeout}s (log: $logf)"
    fi
    sleep 0.25
  done

  warm_up "$port" $(($(date +%s) + 15))
  START_OK=1
  trap - EXIT INT TERM
  log "Kafka $KAFKA_VERSION broker '$NAME' ready on 127.0.0.1:$port${S_SASL_PORT:+ (SASL/SCRAM clients on $S_SASL_PORT)} (controller $cport, pid $START_PID, data $data) in $(elapsed "$t0")s"
  print_brokers "$port"
}

parse_name_only() { # allowed-flags... -- args
  while (($#)); do
    case "$1" in
      --name) NAME="${2:?--name needs a value}"; shift 2 ;;
      --name=*) NAME="${1#*=}"; shift ;;
      *) die "unknown argument '$1'" ;;
    esac
  done
}

cmd_kill() {
  local hard=0
  local -a rest=()
  while (($#)); do
    case "$1" in
      --hard) hard=1; shift ;;
      *) rest+=("$1"); shift ;;
    esac
  done
  parse_name_only "${rest[@]+"${rest[@]}"}"
  load_state || die "no broker '$NAME' to kill (never started or already stopped)"
  if ! is_our_broker "$S_PID" "$S_DATA"; then
    log "broker '$NAME' is not running; data dir kept: $S_DATA"
  else
    local t0
    t0="$(now_s)"
    stop_jvm "$S_PID" "$S_DATA" "$hard"
    log "broker '$NAME' (pid $S_PID) $([[ $hard == 1 ]] && echo killed || echo stopped) in $(elapsed "$t0")s; data kept in $S_DATA ('start --reuse' restarts it on port $S_PORT)"
  fi
  save_state killed ""
}

cmd_stop() {
  parse_name_only "$@"
  if ! load_state; then
    log "broker '$NAME' is not running"
    return 0
  fi
  if is_our_broker "$S_PID" "$S_DATA"; then
    stop_jvm "$S_PID" "$S_DATA" 0
    log "broker '$NAME' (pid $S_PID) stopped"
  fi
  safe_rm_data "$S_DATA"
  rm -f "$(state_file)"
  log "data dir removed; broker log kept at $(log_file)"
}

cmd_status() {
  parse_name_only "$@"
  if ! load_state; then
    echo "STATUS=not-started"
    return 1
  fi
  local rc=1 st
  if is_our_broker "$S_PID" "$S_DATA"; then
    if probe_broker "$S_PORT"; then st=running rc=0; else st=not-answering rc=2; fi
  elif [[ "$S_STATUS" == killed ]]; then
    st=killed
  else
    st=dead
  fi
  echo "STATUS=$st"
  echo "KAFKA_VERSION=${S_VERSION:-?}"
  [[ "$st" == running || "$st" == not-answering ]] && echo "KAFKA_PID=$S_PID"
  echo "KAFKA_DATA_DIR=$S_DATA"
  echo "KAFKA_CONTROLLER_PORT=$S_CPORT"
  echo "KAFKA_LOG=$(log_file)"
  echo "KAFKA_BROKERS=127.0.0.1:${S_SASL_PORT:-$S_PORT}"
  return "$rc"
}

cmd_logs() {
  parse_name_only "$@"
  local f
  f="$(log_file)"
  [[ -f "$f" ]] || die "no log at $f"
  tail -n 100 "$f"
}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

main() {
  local cmd="${1:-}"
  (($#)) && shift
  case "$cmd" in
    start) cmd_start "$@" ;;
    resume) cmd_start --reuse "$@" ;;
    kill | pause) cmd_kill "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    prefetch) cmd_prefetch "$@" ;;
    -h | --help | help) usage ;;
    *) usage; exit 64 ;;
  esac
}

main "$@"
