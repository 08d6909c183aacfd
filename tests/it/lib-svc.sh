# Helpers for the svc integration tests (sourced after lib.sh): real
# daemontools (svscan, supervise, svc, svstat) on services under $T.

# mkservice DIR RUNSCRIPT-BODY: a service directory with an executable run
mkservice() {
	mkdir -p "$1"
	printf '#!/bin/sh\n%s\n' "$2" > "$1/run"
	chmod 755 "$1/run"
}

# at_exit runs single words: the pids to kill at exit are collected here
SVC_PIDS=""
kill_later() { SVC_PIDS="$SVC_PIDS $1"; }
kill_pids() { for _p in $SVC_PIDS; do kill "$_p" 2>/dev/null; done; }
at_exit kill_pids

# start_svscan DIR: svscan on DIR, stopped with everything it started at exit
SVSCAN_PID=""
SVSCAN_DIR=""
start_svscan() {
	SVSCAN_DIR=$1
	svscan "$1" >/dev/null 2>&1 &
	SVSCAN_PID=$!
	at_exit stop_svscan
}

# The services are told to stop and their supervise to exit (svc -dx) once
# svscan, which would restart them, is gone.
stop_svscan() {
	kill "$SVSCAN_PID" 2>/dev/null
	wait "$SVSCAN_PID" 2>/dev/null
	for _d in "$SVSCAN_DIR"/* "$SVSCAN_DIR"/*/log; do
		[ -d "$_d/supervise" ] && svc -dx "$_d" 2>/dev/null
	done
	sleep 0.3
}

# up DIR SECONDS: until svstat says DIR is up
wait_up() {
	_n=$(($2 * 10))
	while [ $_n -gt 0 ]; do
		svstat "$1" 2>/dev/null | grep -q ': up (pid' && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# status_pid DIR: the pid in supervise/status (bytes 12..15, little-endian)
status_pid() {
	od -An -tu4 -j12 -N4 "$1/supervise/status" | tr -d ' '
}

# maintd_svc OUT SERVICES [ARGS...]: one sweep of the svc check; exit status in $rc
maintd_svc() {
	_out=$1
	_services=$2
	shift 2
	rc=0
	MAINTD_SERVICES=$_services MAINTD_STATE=$T/state QMAILHOME=$T/qmail \
	    MAINTD_SVC_MINUP=${MINUP:-2} timeout 30 "$MAINTD" -1 -C svc "$@" \
	    < /dev/null > "$_out" 2> "$_out.err" || rc=$?
	[ ! -s "$_out.err" ] || { cat "$_out.err" >&2; fail "stderr is not empty"; }
}
