#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tidegate's test broker: a real single-node Apache Kafka 3.9.1 (KRaft,
# combined broker+controller) on 127.0.0.1, for the tests that talk to Kafka.
# See tools/kafka/README.md.
#
#   broker.sh install                  Java + Maven if missing, Kafka's jars
#                                      into the cache (prints the cache dir)
#   broker.sh start DIR [--port P] [--controller-port C] [--timeout S]
#                                      start a broker whose config, data and
#                                      logs live in DIR; prints its bootstrap
#                                      address (127.0.0.1:P)
#   broker.sh stop DIR                 SIGTERM, then SIGKILL after 20 s
#   broker.sh kill DIR                 SIGKILL at once (outage tests)
#   broker.sh restart DIR              stop, then start on the same ports/data
#   broker.sh status DIR               exit 0 when the broker answers
#
# Environment: TIDEGATE_KAFKA_CACHE (jar folder, default
# ~/.cache/tidegate/kafka-3.9.1), TIDEGATE_KAFKA_HEAP (default 512m),
# TIDEGATE_KAFKA_JAVA_OPTS (extra JVM options), TIDEGATE_KAFKA_START_TIMEOUT
# (default 60 s), TIDEGATE_KAFKA_STOP_TIMEOUT (default 20 s).
set -eu
set -o pipefail

KAFKA_VERSION=3.9.1
SCALA_VERSION=2.13
KAFKA_JAR="kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar"
# jars without which nothing works: checked after every install
REQUIRED_JARS="$KAFKA_JAR kafka-clients-$KAFKA_VERSION.jar
kafka-server-$KAFKA_VERSION.jar kafka-raft-$KAFKA_VERSION.jar
kafka-metadata-$KAFKA_VERSION.jar slf4j-reload4j-1.7.36.jar
reload4j-1.2.25.jar"

PROG=broker.sh
HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
if [ -z "${HOME:-}" ]; then
	HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
fi
CACHE=${TIDEGATE_KAFKA_CACHE:-$HOME/.cache/tidegate/kafka-$KAFKA_VERSION}
HEAP=${TIDEGATE_KAFKA_HEAP:-512m}
START_TIMEOUT=${TIDEGATE_KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${TIDEGATE_KAFKA_STOP_TIMEOUT:-20}
# C1 only: halves the broker's start-up on a small machine; a test broker
# needs no peak throughput. TIDEGATE_KAFKA_JAVA_OPTS comes later and wins.
JVM_QUICK=(-XX:TieredStopAtLevel=1)
JVM_TOOL=("${JVM_QUICK[@]}" -XX:+UseSerialGC)

say() { echo "$PROG: $*" >&2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }

usage() {
	sed -n '/^#   broker.sh/,/^#$/s/^# \{0,1\}//p' "$HERE/broker.sh" | sed '$d' >&2
	exit 2
}

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- install

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

APT_UPDATED=0
apt_install() { # packages...
	export DEBIAN_FRONTEND=noninteractive
	local p policy need_update=0
	for p in "$@"; do
		# no candidate version known: the package lists are missing or old
		# (read whole, then grep: grep -q under pipefail would make an
		# early exit of grep look like a failure)
		policy=$(apt-cache policy "$p" 2>/dev/null || true)
		if ! grep -q 'Candidate: [^(]' <<<"$policy"; then
			need_update=1
		fi
	done
	if [ "$need_update" -eq 1 ] && [ "$APT_UPDATED" -eq 0 ]; then
		say "apt-get update"
		as_root apt-get update -q >&2
		APT_UPDATED=1
	fi
	say "apt-get install $*"
	if ! as_root apt-get install -y -q --no-install-recommends "$@" >&2; then
		# old package lists name files the archive no longer has
		[ "$APT_UPDATED" -eq 0 ] || die "apt-get install $* failed"
		say "apt-get update, then apt-get install $* again"
		as_root apt-get update -q >&2
		APT_UPDATED=1
		as_root apt-get install -y -q --no-install-recommends "$@" >&2 ||
			die "apt-get install $* failed"
	fi
}

cache_complete() {
	[ -f "$CACHE/.complete" ] || return 1
	local j
	# every jar the last good install listed, and the key ones
	while IFS= read -r j; do
		[ -n "$j" ] && { [ -s "$CACHE/$j" ] || return 1; }
	done <"$CACHE/.complete"
	for j in $REQUIRED_JARS; do
		[ -s "$CACHE/$j" ] || return 1
	done
	return 0
}

check_cache_path() {
	case $CACHE in
	/*) ;;
	*) CACHE=${PWD%/}/$CACHE ;;
	esac
	case $CACHE in
	*:* | *\\* | *'
'*) die "TIDEGATE_KAFKA_CACHE may not contain ':', '\\' or a newline: $CACHE" ;;
	esac
}

cmd_install() {
	[ $# -eq 0 ] || usage
	check_cache_path
	local t0
	t0=$(now_ms)
	if ! command -v java >/dev/null 2>&1; then
		apt_install default-jre-headless
		command -v java >/dev/null 2>&1 || die "java still missing after installing default-jre-headless"
	fi
	if cache_complete; then
		say "Kafka $KAFKA_VERSION jars already in $CACHE"
		echo "$CACHE"
		return 0
	fi
	if ! command -v mvn >/dev/null 2>&1; then
		apt_install maven
		command -v mvn >/dev/null 2>&1 || die "mvn still missing after installing maven"
	fi
	mkdir -p "$CACHE"
	# one install at a time per cache; a second one waits, then finds the
	# cache complete
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$CACHE/.lock"
		flock 9
		if cache_complete; then
			say "Kafka $KAFKA_VERSION jars already in $CACHE"
			echo "$CACHE"
			return 0
		fi
	fi
	rm -f "$CACHE/.complete"
	say "fetching Apache Kafka $KAFKA_VERSION jars with Maven into $CACHE (log: $CACHE/.install.log)"
	# Maven's own repository lives in the cache while it works, and goes
	# once the jars are copied: the cache is just the flat jar folder
	if ! mvn -B -ntp -f "$HERE/pom.xml" \
		-Dmaven.repo.local="$CACHE/.m2" \
		-Dtidegate.kafka.cache="$CACHE" \
		validate >"$CACHE/.install.log" 2>&1; then
		tail -n 40 "$CACHE/.install.log" >&2
		die "Maven could not fetch the Kafka jars (full log: $CACHE/.install.log)"
	fi
	local j missing=""
	for j in $REQUIRED_JARS; do
		[ -s "$CACHE/$j" ] || missing="$missing $j"
	done
	[ -z "$missing" ] || die "Maven finished but these jars are missing from $CACHE:$missing"
	# the jars load: a JVM with this classpath runs Kafka's storage tool
	if ! java "${JVM_TOOL[@]}" -cp "$CACHE/*" kafka.tools.StorageTool random-uuid >/dev/null 2>"$CACHE/.check.log"; then
		cat "$CACHE/.check.log" >&2
		die "the jars in $CACHE do not run kafka.tools.StorageTool"
	fi
	rm -rf "$CACHE/.m2" "$CACHE/.build" "$CACHE/.check.log"
	(cd "$CACHE" && ls -1 -- *.jar) >"$CACHE/.complete.tmp"
	mv -f "$CACHE/.complete.tmp" "$CACHE/.complete"
	say "installed $(wc -l <"$CACHE/.complete") jars ($(du -sh "$CACHE" | cut -f1)) in $(($(now_ms) - t0)) ms"
	echo "$CACHE"
}

# ------------------------------------------------------------ broker dirs

# sets DIR (absolute) and the file names under it
set_dir() { # dir, create?
	[ -n "$1" ] || die "empty DIR"
	if [ "$2" = create ]; then
		mkdir -p "$1" || die "cannot create $1"
	fi
	[ -d "$1" ] || die "no such directory: $1"
	DIR=$(cd "$1" && pwd)
	case $DIR in
	*,* | *:* | *\\* | *'
'*) die "DIR may not contain ',', ':', '\\' or a newline: $DIR" ;;
	esac
	PIDFILE=$DIR/broker.pid
	ENVFILE=$DIR/broker.env
	CONF=$DIR/config/server.properties
	LOG4J=$DIR/config/log4j.properties
	LOGDIR=$DIR/logs
	SERVERLOG=$LOGDIR/server.log
	JAVALOG=$LOGDIR/java.out
	DATA=$DIR/data
}

# the pid of this DIR's broker if that process is alive (and is it), else ""
broker_pid() {
	local pid
	[ -f "$PIDFILE" ] || return 0
	pid=$(cat "$PIDFILE" 2>/dev/null || true)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	pid_alive "$pid" || return 0
	# not a recycled pid: the process runs kafka.Kafka on this DIR's config
	local cmdline
	cmdline=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null || true)
	grep -qxF "$CONF" <<<"$cmdline" || return 0
	echo "$pid"
}

pid_alive() { # pid: some thread of it has not exited yet
	# A SIGKILLed JVM's main thread turns zombie while its other threads
	# still exit and still hold its sockets: look at every thread.
	local t state
	for t in "/proc/$1/task/"*/stat; do
		[ -r "$t" ] || continue
		state=$(sed 's/^.*) //' "$t" 2>/dev/null | cut -d' ' -f1) || continue
		case $state in '' | Z | X) ;; *) return 0 ;; esac
	done
	return 1
}

wait_gone() { # pid, timeout seconds; 0 when gone
	local end=$(($(now_ms) + $2 * 1000))
	while pid_alive "$1"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
	return 0
}

log_tail() { # this run's warnings and last lines, on stderr
	local warn last
	if [ -s "$SERVERLOG" ]; then
		warn=$(run_log | grep -E '^\[[^]]*\] (WARN|ERROR|FATAL)|Exception' | tail -n 15 || true)
		if [ -n "$warn" ]; then
			echo "---- warnings and errors in $SERVERLOG" >&2
			echo "$warn" >&2
		fi
		last=$(run_log | grep -v '^[[:space:]]' | tail -n 10 || true)
		if [ -n "$last" ]; then
			echo "---- last lines of $SERVERLOG" >&2
			echo "$last" >&2
		fi
	fi
	if [ -s "$JAVALOG" ]; then
		echo "---- $JAVALOG since this launch" >&2
		# shellcheck disable=SC2016
		sed -n '/^==== broker.sh: launch/h; /^==== broker.sh: launch/!H; ${x;p}' "$JAVALOG" |
			tail -n 20 >&2 || true
	fi
}

# python3 helpers: free ports, and a Kafka-protocol probe
free_ports() { # count
	python3 - "$1" <<'EOF'
import socket, sys
socks, ports = [], []
while len(ports) < int(sys.argv[1]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    socks.append(s)                      # held until all are picked: distinct
    p = s.getsockname()[1]
    if p not in (9092, 9093):
        ports.append(p)
print(" ".join(map(str, ports)))
EOF
}

port_free() { # port
	python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# ApiVersions v0, then Metadata v1 for no topic: answers when the broker
# serves requests and lists itself (the broker on PORT is registered)
probe() { # port; exit 0 when it answers
	python3 - "$1" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])

def call(s, key, ver, corr, body=b""):
    cid = b"tidegate-broker-sh"
    req = struct.pack(">hhih", key, ver, corr, len(cid)) + cid + body
    s.sendall(struct.pack(">i", len(req)) + req)
    n = b""
    while len(n) < 4:
        c = s.recv(4 - len(n))
        if not c:
            raise OSError("closed")
        n += c
    (size,) = struct.unpack(">i", n)
    buf = b""
    while len(buf) < size:
        c = s.recv(size - len(buf))
        if not c:
            raise OSError("closed")
        buf += c
    (got,) = struct.unpack_from(">i", buf, 0)
    if got != corr:
        raise OSError("bad correlation id")
    return buf[4:]

try:
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.settimeout(3)
    r = call(s, 18, 0, 1)                       # ApiVersions v0
    (err,) = struct.unpack_from(">h", r, 0)
    if err != 0:
        sys.exit(1)
    r = call(s, 3, 1, 2, struct.pack(">i", 0))  # Metadata v1, no topic
    (nb,) = struct.unpack_from(">i", r, 0)
    off, ports = 4, []
    for _ in range(nb):
        off += 4                                # node id
        (hl,) = struct.unpack_from(">h", r, off)
        off += 2 + hl
        (bp,) = struct.unpack_from(">i", r, off)
        off += 4
        ports.append(bp)
        (rl,) = struct.unpack_from(">h", r, off)
        off += 2 + max(rl, 0)
    sys.exit(0 if port in ports else 1)
except (OSError, struct.error):
    sys.exit(1)
EOF
}

write_config() { # port, controller port
	mkdir -p "$DIR/config" "$LOGDIR" "$DATA"
	cat >"$CONF.tmp" <<EOF
# written by tools/kafka/broker.sh: a single-node KRaft test broker
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$2
listeners=PLAINTEXT://127.0.0.1:$1,CONTROLLER://127.0.0.1:$2
advertised.listeners=PLAINTEXT://127.0.0.1:$1
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA

# one node: everything has one replica; tidegate creates its own topics
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0

# small heap, small machine
log.cleaner.dedupe.buffer.size=16777216
log.cleaner.threads=1
log.cleaner.backoff.ms=1000
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1

# quick start-up, shutdown and cleanup in tests
log.segment.delete.delay.ms=1000
log.retention.check.interval.ms=10000
controlled.shutdown.enable=true
controlled.shutdown.max.retries=1
controlled.shutdown.retry.backoff.ms=100
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
controller.quorum.election.backoff.max.ms=100
controller.quorum.fetch.timeout.ms=2000
controller.quorum.election.timeout.ms=1000
EOF
	mv -f "$CONF.tmp" "$CONF"
	cat >"$LOG4J" <<EOF
# written by tools/kafka/broker.sh
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$SERVERLOG
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
}

# ------------------------------------------------------------------ start

STARTING_PID=""
start_cleanup() {
	# a start that did not finish leaves no broker behind
	if [ -n "$STARTING_PID" ]; then
		kill -KILL "$STARTING_PID" 2>/dev/null || true
		wait_gone "$STARTING_PID" 10 || true
		rm -f "$PIDFILE"
		STARTING_PID=""
	fi
}

# this launch's part of server.log (all of it if the log rolled over)
LOG_FROM=0
run_log() {
	local size
	size=$(stat -c %s "$SERVERLOG" 2>/dev/null || echo 0)
	[ "$size" -ge "$LOG_FROM" ] || LOG_FROM=0
	tail -c +$((LOG_FROM + 1)) "$SERVERLOG" 2>/dev/null || true
}

# one launch attempt; 0 ready, 1 failed, 2 failed on a port already in use
launch() { # port, controller port, cluster id
	local port=$1 cport=$2 cid=$3 pid end t0
	write_config "$port" "$cport"
	printf 'PORT=%s\nCONTROLLER_PORT=%s\nCLUSTER_ID=%s\n' "$port" "$cport" "$cid" >"$ENVFILE"
	if [ ! -f "$DATA/meta.properties" ]; then
		if ! java "${JVM_TOOL[@]}" -cp "$CACHE/*" -Dlog4j.configuration="file:$LOG4J" \
			kafka.tools.StorageTool format -t "$cid" -c "$CONF" \
			--ignore-formatted >"$LOGDIR/format.out" 2>&1; then
			cat "$LOGDIR/format.out" >&2
			say "formatting $DATA failed"
			return 1
		fi
	fi
	# the logs keep every run; this run's lines start at LOG_FROM
	LOG_FROM=$(stat -c %s "$SERVERLOG" 2>/dev/null || echo 0)
	echo "==== broker.sh: launch at $(date '+%F %T') on 127.0.0.1:$port" >>"$JAVALOG"
	t0=$(now_ms)
	# shellcheck disable=SC2086
	java -Xmx"$HEAP" "${JVM_QUICK[@]}" -Djava.awt.headless=true \
		-Dkafka.logs.dir="$LOGDIR" -Dlog4j.configuration="file:$LOG4J" \
		${TIDEGATE_KAFKA_JAVA_OPTS:-} \
		-cp "$CACHE/*" kafka.Kafka "$CONF" \
		</dev/null >>"$JAVALOG" 2>&1 9>&- &
	pid=$!
	# no "Killed" job notice from this shell; a dead broker stays a zombie
	# until this script exits, which pid_alive counts as gone
	disown "$pid"
	STARTING_PID=$pid
	echo "$pid" >"$PIDFILE"
	echo "127.0.0.1:$port" >"$DIR/bootstrap"
	end=$((t0 + START_TIMEOUT * 1000))
	while :; do
		if ! pid_alive "$pid"; then
			if run_log | grep -qi 'address already in use' ||
				{ tail -n 30 "$JAVALOG" || true; } | grep -qi 'address already in use'; then
				start_cleanup
				return 2
			fi
			log_tail
			say "the broker exited during start-up (logs in $LOGDIR)"
			start_cleanup
			return 1
		fi
		if [ "$(run_log | grep -c 'Kafka Server started')" -gt 0 ] && probe "$port"; then
			break
		fi
		if [ "$(now_ms)" -ge "$end" ]; then
			log_tail
			say "the broker did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s (logs in $LOGDIR)"
			start_cleanup
			return 1
		fi
		sleep 0.2
	done
	STARTING_PID=""
	say "broker pid $pid ready on 127.0.0.1:$port (controller $cport) in $(($(now_ms) - t0)) ms"
	return 0
}

cmd_start() {
	[ $# -ge 1 ] || usage
	local dir=$1 port="" cport="" rc tries=0 cid="" pick
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
		--port=*) port=${1#*=}; shift ;;
		--controller-port) [ $# -ge 2 ] || usage; cport=$2; shift 2 ;;
		--controller-port=*) cport=${1#*=}; shift ;;
		--timeout) [ $# -ge 2 ] || usage; START_TIMEOUT=$2; shift 2 ;;
		--timeout=*) START_TIMEOUT=${1#*=}; shift ;;
		*) usage ;;
		esac
	done
	for p in "$port" "$cport" "$START_TIMEOUT"; do
		case $p in *[!0-9]*) die "not a number: $p" ;; esac
	done
	check_cache_path
	cache_complete || die "Kafka jars missing in $CACHE: run '$HERE/broker.sh install' first"
	command -v java >/dev/null 2>&1 || die "java missing: run '$HERE/broker.sh install' first"
	command -v python3 >/dev/null 2>&1 || die "python3 is needed (free ports, readiness probe)"
	set_dir "$dir" create

	local running
	running=$(broker_pid)
	[ -z "$running" ] || die "a broker from $DIR is already running (pid $running, $(cat "$DIR/bootstrap" 2>/dev/null))"
	rm -f "$PIDFILE"

	# a DIR that held a broker keeps its cluster id and, unless told
	# otherwise, its ports
	if [ -f "$ENVFILE" ]; then
		local PORT="" CONTROLLER_PORT="" CLUSTER_ID=""
		# shellcheck disable=SC1090
		. "$ENVFILE"
		cid=$CLUSTER_ID
		[ -n "$port" ] || port=$PORT
		[ -n "$cport" ] || cport=$CONTROLLER_PORT
	fi
	if [ -z "$cid" ]; then
		cid=$(java "${JVM_TOOL[@]}" -cp "$CACHE/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1) ||
			die "kafka.tools.StorageTool random-uuid failed"
		[ -n "$cid" ] || die "kafka.tools.StorageTool random-uuid printed nothing"
	fi
	# ports picked here may be taken again before Kafka binds them: pick
	# anew (up to 3 times) when they were not given
	local fixed_port=$port fixed_cport=$cport
	for p in $port $cport; do
		port_free "$p" || die "port $p on 127.0.0.1 is in use"
	done
	[ -z "$port" ] || [ "$port" != "$cport" ] || die "--port and --controller-port are the same"

	trap 'start_cleanup' EXIT
	trap 'start_cleanup; exit 130' INT
	trap 'start_cleanup; exit 143' TERM
	while :; do
		tries=$((tries + 1))
		pick=$(free_ports 2)
		[ -n "$port" ] || port=${pick% *}
		[ -n "$cport" ] || cport=${pick#* }
		if [ "$port" = "$cport" ]; then
			cport=${pick% *}
		fi
		rc=0
		launch "$port" "$cport" "$cid" || rc=$?
		[ "$rc" -eq 0 ] && break
		if [ "$rc" -eq 2 ] && [ "$tries" -lt 3 ] &&
			{ [ -z "$fixed_port" ] || [ -z "$fixed_cport" ]; }; then
			say "port $port or $cport was taken meanwhile: picking others"
			port=$fixed_port
			cport=$fixed_cport
			continue
		fi
		[ "$rc" -eq 2 ] && { log_tail; say "port $port or $cport on 127.0.0.1 is in use"; }
		exit 1
	done
	trap - EXIT INT TERM
	echo "127.0.0.1:$port"
}

# ------------------------------------------------------------- stop, kill

cmd_stop() {
	[ $# -eq 1 ] || usage
	set_dir "$1" exists
	local pid
	pid=$(broker_pid)
	if [ -z "$pid" ]; then
		rm -f "$PIDFILE"
		say "no broker running from $DIR"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
		say "broker pid $pid still up after ${STOP_TIMEOUT}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 10 || die "broker pid $pid survived SIGKILL"
	fi
	rm -f "$PIDFILE"
	say "broker pid $pid stopped"
}

cmd_kill() {
	[ $# -eq 1 ] || usage
	set_dir "$1" exists
	local pid
	pid=$(broker_pid)
	if [ -z "$pid" ]; then
		rm -f "$PIDFILE"
		say "no broker running from $DIR"
		return 0
	fi
	kill -KILL "$pid" 2>/dev/null || true
	wait_gone "$pid" 10 || die "broker pid $pid survived SIGKILL"
	rm -f "$PIDFILE"
	say "broker pid $pid killed"
}

cmd_restart() {
	[ $# -eq 1 ] || usage
	set_dir "$1" exists
	[ -f "$ENVFILE" ] || die "no broker was ever started from $DIR"
	cmd_stop "$DIR"
	cmd_start "$DIR"
}

cmd_status() {
	[ $# -eq 1 ] || usage
	[ -d "$1" ] || { say "no such directory: $1"; return 1; }
	set_dir "$1" exists
	local pid port
	pid=$(broker_pid)
	if [ -z "$pid" ]; then
		say "not running ($DIR)"
		return 1
	fi
	port=$(sed -n 's/^PORT=//p' "$ENVFILE" 2>/dev/null)
	if [ -n "$port" ] && probe "$port"; then
		say "running: pid $pid, 127.0.0.1:$port"
		return 0
	fi
	say "pid $pid is up but 127.0.0.1:${port:-?} does not answer"
	return 1
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
install) cmd_install "$@" ;;
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
kill) cmd_kill "$@" ;;
restart) cmd_restart "$@" ;;
status) cmd_status "$@" ;;
-h | --help | help) usage ;;
*) say "unknown command: $cmd"; usage ;;
esac
