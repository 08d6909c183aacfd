#!/bin/sh
# The monitoring commands of contrib/ as written, as the nagios user, against
# the status file of a daemon running under real svscan (tests/contrib.sh
# checks that qmail-maintd(8) shows the same text):
#   - contrib/nrpe/qmail-maintd.cfg's command line, run as NRPE runs it
#     (/bin/sh -c, as nagios, with next to no environment);
#   - contrib/icinga2/qmail-maintd.conf, loaded by a real icinga2 daemon (one
#     node that is its own agent: the apply rule's command_endpoint is the
#     local endpoint), which drops to nagios and runs the check when told to.
# Only the install paths /var/qmail/bin/qmail-maintd and
# /var/qmail/maintd/state are replaced by this test's.
. "$SOURCE_DIR/tests/it/lib.sh"
command -v svscan >/dev/null || fail "daemontools is not installed"
command -v icinga2 >/dev/null || fail "icinga2 is not installed (tests/deps/contrib.txt)"
if ! getent passwd nagios > /dev/null; then
	# what Debian's icinga2 and nagios-nrpe-server packages create
	useradd --system --user-group --home-dir /var/lib/nagios --no-create-home \
	    --shell /usr/sbin/nologin nagios || fail "cannot create the nagios account"
	at_exit "userdel nagios"
fi
slow_service
# contrib's paths, this test's install
installed() { sed "s|/var/qmail/maintd/state|$STATE|g; s|/var/qmail/bin/qmail-maintd|$MAINTD|g"; }

slow_service_up
pid=$(svstat "$S" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')

# -- NRPE: command[NAME]=LINE, which nrpe runs with /bin/sh -c as its user ----------------
nrpe=$(grep -v '^#' "$SOURCE_DIR/contrib/nrpe/qmail-maintd.cfg" | grep . | sed 's/^command\[[A-Za-z0-9_]*\]=//' | installed)
nrpe_run() { # out-file: the command as nagios, its exit in $rc, its time in $ms
	rc=0
	_t0=$(date +%s%N)
	runuser -u nagios -- env -i PATH=/usr/bin:/bin /bin/sh -c "$nrpe" > "$1" 2> "$T/err" || rc=$?
	ms=$((($(date +%s%N) - _t0) / 1000000))
	[ ! -s "$T/err" ] || fail "NRPE command: stderr: $(cat "$T/err")"
}
nrpe_run "$T/nrpe.out"
check_plugin "$T/nrpe.out" "$rc" 2
head -1 "$T/nrpe.out" | grep -q '^QMAIL-MAINTD CRITICAL - 1 critical, 1 warning: slow item; slow item | ' ||
    fail "NRPE command: $(head -1 "$T/nrpe.out")"
grep -Eq '^crit slow: item name=c since=[0-9]+$' "$T/nrpe.out" || fail "NRPE command: long output: $(cat "$T/nrpe.out")"
[ "$ms" -lt 2000 ] || fail "NRPE command took $ms ms"
cat "$T/nrpe.out"
pass "NRPE: $nrpe, as nagios: CRITICAL, exit 2, in $ms ms"

# -- Icinga 2: the CheckCommand and apply rule, run by icinga2 itself ----------------------
I=$T/icinga
mkdir -p "$I/data/certs" "$I/log" "$I/cache" "$I/spool" "$I/run/icinga2" "$I/state"
installed < "$SOURCE_DIR/contrib/icinga2/qmail-maintd.conf" > "$I/qmail-maintd.conf"
port=$(free_port)
node=mx1.example.net
cat > "$I/icinga2.conf" <<EOF
include <itl>
const NodeName = "$node"
const ZoneName = "$node"
object Endpoint "$node" { }
object Zone "$node" { endpoints = [ "$node" ] }
object Zone "global-templates" { global = true }
object Host "$node" {
	check_command = "dummy"
	zone = "$node"
	vars.qmail_maintd = true
}
include "$I/qmail-maintd.conf"
object ApiListener "api" { bind_host = "127.0.0.1"; bind_port = $port }
object CheckerComponent "checker" { }
object ExternalCommandListener "command" { command_path = "$I/run/icinga2.cmd" }
object PerfdataWriter "perfdata" {
	service_perfdata_path = "$I/spool/service-perfdata"
	service_temp_path = "$I/spool/service-tmp"
	host_perfdata_path = "$I/spool/host-perfdata"
	host_temp_path = "$I/spool/host-tmp"
	service_format_template = "SERVICE::\$service.name\$\tSTATE::\$service.state_id\$\tOUTPUT::\$service.output\$"
	rotation_interval = 1s
}
EOF
chown -R nagios:nagios "$I"
chmod 755 "$I"
D="-DConfiguration.DataDir=$I/data -DConfiguration.LogDir=$I/log -DConfiguration.CacheDir=$I/cache
 -DConfiguration.SpoolDir=$I/spool -DConfiguration.InitRunDir=$I/run
 -DConfiguration.StatePath=$I/state/icinga2.state -DConfiguration.ObjectsPath=$I/cache/objects
 -DConfiguration.VarsPath=$I/cache/vars -DConfiguration.PidPath=$I/run/icinga2.pid
 -DConfiguration.ModAttrPath=$I/state/modattr.conf"
# the agent's certificate (an ApiListener is what makes command_endpoint local)
# shellcheck disable=SC2086
{ icinga2 pki new-ca $D &&
  icinga2 pki new-cert --cn "$node" --key "$I/data/certs/$node.key" --csr "$I/data/certs/$node.csr" &&
  icinga2 pki sign-csr --csr "$I/data/certs/$node.csr" --cert "$I/data/certs/$node.crt" $D &&
  cp "$I/data/ca/ca.crt" "$I/data/certs/ca.crt"; } > "$I/pki.log" 2>&1 || fail "icinga2 pki: $(cat "$I/pki.log")"
chown -R nagios:nagios "$I/data"
# its own process group: icinga2's children outlive a TERM to the first one
# shellcheck disable=SC2086
setsid icinga2 daemon -c "$I/icinga2.conf" $D > "$I/out" 2>&1 &
pg=$!
icinga_stop() {
	kill -TERM -"$pg" 2>/dev/null || return 0
	_n=0
	while kill -0 -"$pg" 2>/dev/null && [ $_n -lt 50 ]; do sleep 0.1; _n=$((_n + 1)); done
	kill -KILL -"$pg" 2>/dev/null
	wait "$pg" 2>/dev/null
	return 0
}
at_exit icinga_stop
n=0
while [ ! -p "$I/run/icinga2.cmd" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
[ -p "$I/run/icinga2.cmd" ] || fail "icinga2 did not start: $(cat "$I/out")"
grep -q 'Instantiated 1 Service' "$I/out" || fail "no qmail-maintd Service applied: $(cat "$I/out")"
user=$(stat -c %U "/proc/$(cat "$I/run/icinga2.pid")")
[ "$user" = nagios ] || fail "icinga2 runs as $user, not nagios"
icinga_check() { # out-file: force the check, wait for its result
	: > "$I/spool/seen"
	cat "$I"/spool/service-perfdata.* 2>/dev/null > "$I/spool/before" || true
	now=$(date +%s)
	printf '[%s] SCHEDULE_FORCED_SVC_CHECK;%s;qmail-maintd;%s\n' "$now" "$node" "$now" > "$I/run/icinga2.cmd"
	n=0
	while [ $n -lt 300 ]; do
		cat "$I"/spool/service-perfdata.* 2>/dev/null > "$I/spool/all" || true
		# what came since: the before part is a prefix of all
		tail -c +$(($(wc -c < "$I/spool/before") + 1)) "$I/spool/all" > "$1"
		grep -q '^SERVICE::qmail-maintd	STATE::' "$1" && return 0
		sleep 0.1
		n=$((n + 1))
	done
	fail "no result of the qmail-maintd service from icinga2 in 30 s: $(grep -v ConfigItem "$I/out")"
}
icinga_check "$T/icinga.out"
cat "$T/icinga.out"
head -1 "$T/icinga.out" | grep -q '^SERVICE::qmail-maintd	STATE::2	OUTPUT::QMAIL-MAINTD CRITICAL - 1 critical, 1 warning: slow item; slow item' ||
    fail "Icinga 2: $(head -1 "$T/icinga.out")"
grep -Eq '^crit slow: item name=c since=[0-9]+$' "$T/icinga.out" || fail "Icinga 2: long output: $(cat "$T/icinga.out")"
pass "Icinga 2: contrib's CheckCommand, run by icinga2 as nagios: CRITICAL with the long output"

# -- the daemon stopped: both say CRITICAL, not a stale OK --------------------------------
svc -d "$S"
n=0
while kill -0 "$pid" 2>/dev/null && [ $n -lt 40 ]; do sleep 0.05; n=$((n + 1)); done
kill -0 "$pid" 2>/dev/null && fail "still running after svc -d"
nrpe_run "$T/nrpe.out"
check_plugin "$T/nrpe.out" "$rc" 2
head -1 "$T/nrpe.out" | grep -q "^QMAIL-MAINTD CRITICAL - qmail-maintd (pid $pid) is not running" ||
    fail "NRPE command, daemon stopped: $(head -1 "$T/nrpe.out")"
icinga_check "$T/icinga.out"
head -1 "$T/icinga.out" | grep -q "^SERVICE::qmail-maintd	STATE::2	OUTPUT::QMAIL-MAINTD CRITICAL - qmail-maintd (pid $pid) is not running" ||
    fail "Icinga 2, daemon stopped: $(head -1 "$T/icinga.out")"
pass "the daemon stopped (svc -d): CRITICAL from both"

# -- no status file (a wrong MAINTD_STATE, the daemon never started): UNKNOWN -------------
mv "$STATE/status" "$STATE/status.away"
nrpe_run "$T/nrpe.out"
check_plugin "$T/nrpe.out" "$rc" 3
icinga_check "$T/icinga.out"
head -1 "$T/icinga.out" | grep -q '^SERVICE::qmail-maintd	STATE::3	OUTPUT::QMAIL-MAINTD UNKNOWN - ' ||
    fail "Icinga 2, no status: $(head -1 "$T/icinga.out")"
pass "no status file: UNKNOWN from both"
