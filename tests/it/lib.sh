# Shared helpers for the integration tests (sourced, not run).
# Environment from ctest: BUILD, SOURCE_DIR, FIXTURES.
set -eu
: "${BUILD:?}" "${SOURCE_DIR:?}" "${FIXTURES:?}"
MAINTD=$BUILD/qmail-maintd
MAINTD_TEST=$BUILD/tests/qmail-maintd-test
MAINTD_CONF=$BUILD/qmail-maintd-conf

T=$(mktemp -d /tmp/maintd-it.XXXXXX)
chmod 755 "$T"
# at_exit 'COMMAND': run at exit, the last registered first
: > "$T/.cleanup"
cleanup() {
	set +e
	tac "$T/.cleanup" > "$T/.cleanup.rev"
	while IFS= read -r _c; do eval "$_c"; done < "$T/.cleanup.rev"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
at_exit() { printf '%s\n' "$1" >> "$T/.cleanup"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# wait_for FILE PATTERN SECONDS: until grep -E finds PATTERN in FILE
wait_for() {
	_n=$(($3 * 20))
	while [ $_n -gt 0 ]; do
		[ -f "$1" ] && grep -Eq -- "$2" "$1" && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}

# count FILE PATTERN: number of matching lines (0 if none)
count() { grep -Ec -- "$2" "$1" 2>/dev/null || true; }

# a free TCP port on 127.0.0.1 (the kernel picks; races are unlikely in tests)
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The log grammar of qmail-maintd(8), after multilog's timestamp if present.
GRAMMAR='^(@[0-9a-f]{24} )?(debug|info|warn|crit|fatal) [A-Za-z0-9_.-]+: [A-Za-z0-9_.-]+( [A-Za-z0-9_.-]+)?( [A-Za-z0-9_.-]+=([^ "\\=]+|"([^"\\]|\\["\\]|\\x[0-9a-f]{2})*"))*$'
check_grammar() {
	if grep -Evn -- "$GRAMMAR" "$1" >&2; then
		fail "lines above in $1 do not parse with the log grammar"
	fi
	[ "$(wc -c < "$1")" -gt 0 ] || fail "$1 is empty"
	awk 'length($0) + 1 > 970 + 26 { exit 1 }' "$1" || fail "a line longer than 970 bytes in $1"
}

# a minimal QMAILHOME with control/me
make_qmailhome() {
	mkdir -p "$1/control"
	echo "${2:-mx1.example.test}" > "$1/control/me"
}

# slow_service: a service directory $S (under $T/service) of qmail-maintd-test
# whose test-only slow check finds "warn a|b" and "crit c" every second (runs
# limited to 1 s), state in $STATE, its log appended to $LOG
slow_service() {
	make_qmailhome "$T/qmail"
	STATE=$T/state
	S=$T/service/maintd
	LOG=$T/log
	mkdir -p "$S/env" "$T/service"
	printf 'warn a|b\ncrit c\n' > "$T/items"
	for kv in "QMAILHOME=$T/qmail" "MAINTD_STATE=$STATE" MAINTD_CHECKS=slow \
	    "MAINTD_SLOW_FINDINGS=$T/items" MAINTD_INTERVAL_SLOW=1 MAINTD_TIMEOUT_SLOW=1; do
		printf '%s\n' "${kv#*=}" > "$S/env/${kv%%=*}"
	done
	printf '#!/bin/sh\nexec envdir ./env %s >> %s 2>&1\n' "$MAINTD_TEST" "$LOG" > "$S/run"
	chmod 755 "$S/run"
}

# slow_service_up: $S supervised by a real svscan of $T/service (stopped at
# exit), its start sweep done and its status file written
slow_service_up() {
	svscan "$T/service" > /dev/null 2>&1 &
	at_exit "kill $!; svc -dx '$S'; sleep 0.3"
	wait_for "$LOG" 'sweep: done reason=start' 15 || fail "no start sweep in $LOG: $(cat "$LOG" 2>/dev/null)"
	_n=0
	while [ ! -f "$STATE/status" ] && [ $_n -lt 40 ]; do sleep 0.05; _n=$((_n + 1)); done
	[ -f "$STATE/status" ] ||
	    fail "no $STATE/status after the start sweep: main.c must call status_write (see daemon/status.h)"
}

# The Monitoring Plugins grammar: the status line in 200 bytes, '|' only
# before the perfdata, 'label'=value[UOM];[warn];[crit];[min];[max] with
# labels of [a-z0-9_], no '|' in the long output, exit 0-3.
PLUGIN='^QMAIL-MAINTD (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+( \| ('"'"'[a-z0-9_]+'"'"'=-?[0-9]+(\.[0-9]+)?(s|ms|us|%|B|KB|MB|TB|c)?(;-?[0-9.:~@]*){0,4}( |$))+)?$'
# check_plugin FILE EXIT EXPECTED-EXIT: a plugin's output in FILE, its exit
check_plugin() {
	head -1 "$1" | grep -Eq -- "$PLUGIN" || fail "not the plugin grammar: $(head -1 "$1")"
	[ "$(head -1 "$1" | wc -c)" -le 200 ] || fail "status line over 200 bytes"
	tail -n +2 "$1" | grep -q '|' && fail "a '|' in the long output: $(cat "$1")"
	[ "$2" -eq "$3" ] || fail "exit $2, not $3: $(cat "$1")"
	# and the checker plugin_guidelines.sh uses for -1 -N, when it is there
	if [ -f "$SOURCE_DIR/tests/it/plugin_output.py" ]; then
		python3 "$SOURCE_DIR/tests/it/plugin_output.py" "$2" < "$1" > "$T/grammar" ||
		    fail "$(cat "$T/grammar"): $(cat "$1")"
	fi
	return 0
}
