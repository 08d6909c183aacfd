# -1 -N as the Monitoring Plugins' guidelines want it (tests/it/plugin_output.py):
# clean, with findings whose text holds '|', with more findings than the
# 200-byte status line holds, a usage error and a run past -t.
. "$SOURCE_DIR/tests/it/lib.sh"
make_qmailhome "$T/qmail"
export QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_CHECKS=slow
export MAINTD_SLOW_FINDINGS="$T/items"
plugin() { # expected-status description args...
	_want=$1 _what=$2
	shift 2
	_st=0
	"$MAINTD_TEST" "$@" > "$T/out" 2> "$T/err" < /dev/null || _st=$?
	[ "$_st" = "$_want" ] || { cat "$T/out" "$T/err"; fail "$_what: exit $_st, want $_want"; }
	python3 "$SOURCE_DIR/tests/it/plugin_output.py" "$_st" < "$T/out" || { cat "$T/out"; fail "$_what"; }
	[ ! -s "$T/err" ] || fail "$_what: stderr: $(cat "$T/err")"
}
: > "$T/items"
plugin 0 "clean" -1 -N
printf 'warn a|b\ncrit reply:421_mx1_busy_|_try_later\n' > "$T/items"
plugin 2 "findings with '|'" -1 -N
grep -q '421_mx1_busy_/_try_later' "$T/out" || fail "the finding's text is gone: $(cat "$T/out")"
i=0
: > "$T/items"
while [ $i -lt 40 ]; do echo "crit a-rather-long-finding-name-to-fill-the-status-line-$i" >> "$T/items"; i=$((i + 1)); done
plugin 2 "40 findings" -1 -N -P "$T/m.prom"
# the same findings for Prometheus: counted by check, event and level (no subjects)
grep -qx 'qmail_maintd_active_findings{check="slow",event="item",level="crit"} 40' "$T/m.prom" ||
    fail "active findings metric: $(grep active "$T/m.prom")"
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/m.prom" || fail "promtool check metrics"
fi
plugin 3 "usage error" -1 -N -x
: > "$T/items"
MAINTD_SLOW_MS=5000 plugin 3 "-t 1" -1 -N -t 1
# -t 1 against an SMTP target that accepts and never answers (the tls check
# would wait MAINTD_TLS_TIMEOUT): UNKNOWN within 2 s
python3 - "$T/port" <<'PY' &
import os, socket, sys, time
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(5)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % t.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns, end = [], time.time() + 30
t.settimeout(0.2)
while time.time() < end:
    try:
        conns.append(t.accept()[0])
    except socket.timeout:
        pass
PY
srv=$!
at_exit "kill $srv 2>/dev/null"
wait_for "$T/port" . 5 || fail "no silent server"
t0=$(date +%s%N)
MAINTD_CHECKS=tls MAINTD_TLS_TARGETS="smtp://127.0.0.1:$(cat "$T/port")" MAINTD_TLS_TIMEOUT=30 \
    MAINTD_DNS_SERVERS=127.0.0.1:9 plugin 3 "-t 1, a target that never answers" -1 -N -t 1
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 2000 ] || fail "-t 1 took $ms ms"
grep -q '^QMAIL-MAINTD UNKNOWN - timeout' "$T/out" || fail "-t 1: $(cat "$T/out")"
pass "-1 -N output follows the plugin guidelines in every case; -t 1 on a silent target: UNKNOWN in $ms ms"
