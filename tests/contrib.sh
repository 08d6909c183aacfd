#!/bin/sh
# Checks the fleet kit in contrib/ (Debian 12, packages from tests/deps/contrib.txt):
#   promtool check rules and promtool test rules on the Prometheus alerting rules;
#   tests/contrib_lint.py: the rules' and the Grafana dashboard's metric names are families
#   qmail-maintd writes (grepped from lib/*.c and daemon/*.c), every alert is tested firing
#   and quiet, the dashboard is JSON on a datasource variable; the dashboard's queries through
#   promtool's PromQL parser; the Icinga 2 CheckCommand through icinga2 daemon -C; the NRPE
#   command's form; qmail-maintd(8)'s NRPE and Icinga 2 examples are contrib's, word for word.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
tmp=$(mktemp -d /tmp/maintd-contrib.XXXXXX)
chmod 755 "$tmp"	# icinga2 reads its configuration as the nagios user
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "contrib.sh: FAIL: $*" >&2; exit 1; }
python=/usr/bin/python3
[ -x "$python" ] || python=python3

echo "== contrib: Prometheus rules"
cd "$top/contrib/prometheus"
promtool check rules qmail-maintd.rules.yml || fail "promtool check rules"
promtool test rules qmail-maintd.rules.test.yml || fail "promtool test rules"

echo "== contrib: metric names, tests of every alert, the Grafana dashboard"
"$python" "$top/tests/contrib_lint.py" "$top" "$tmp/dashboard.rules.yml" || fail "contrib_lint.py"
promtool check rules "$tmp/dashboard.rules.yml" >/dev/null 2>&1 || {
	promtool check rules "$tmp/dashboard.rules.yml"; fail "a dashboard query PromQL does not parse"; }

echo "== contrib: Icinga 2"
# the CheckCommand and its apply rule in a master + agent zone tree, as installed
cat > "$tmp/icinga2.conf" <<EOF
include <itl>
const NodeName = "master.example.net"
const ZoneName = "master"
object Endpoint "master.example.net" { }
object Zone "master" { endpoints = [ "master.example.net" ] }
object Endpoint "mx1.example.net" { }
object Zone "mx1.example.net" { endpoints = [ "mx1.example.net" ]; parent = "master" }
object Zone "global-templates" { global = true }
object Host "mx1.example.net" {
	check_command = "dummy"
	zone = "master"
	vars.qmail_maintd = true
}
include "$top/contrib/icinga2/qmail-maintd.conf"
EOF
icinga2 daemon -C -c "$tmp/icinga2.conf" > "$tmp/icinga2.log" 2>&1 ||
    { cat "$tmp/icinga2.log"; fail "icinga2 daemon -C"; }
grep -q 'Instantiated 1 Service' "$tmp/icinga2.log" || { cat "$tmp/icinga2.log"; fail "no qmail-maintd Service applied"; }

echo "== contrib: NRPE"
line=$(grep -v '^#' "$top/contrib/nrpe/qmail-maintd.cfg" | grep .) || fail "no command in nrpe/qmail-maintd.cfg"
[ "$(printf '%s\n' "$line" | wc -l)" = 1 ] || fail "nrpe/qmail-maintd.cfg: more than one command"
printf '%s\n' "$line" | grep -Eq '^command\[[A-Za-z0-9_]+\]=/[^ ]+ .*/var/qmail/bin/qmail-maintd -s -N -t [1-9]$' ||
    fail "nrpe/qmail-maintd.cfg: not command[NAME]=/... /var/qmail/bin/qmail-maintd -s -N -t N (N < check_nrpe's 10 s): $line"

echo "== contrib: qmail-maintd(8), MONITORING, shows the same commands"
# (tests/it/contrib_commands.sh runs them, as the nagios user, against a running daemon)
man8="$top/docs/qmail-maintd.8"
mline=$(sed -n 's/^\.B command\[qmail_maintd\]=/command[qmail_maintd]=/p' "$man8" | sed 's/\\-/-/g')
[ "$mline" = "$line" ] || fail "the NRPE command of qmail-maintd(8) is not contrib's:
  man:     $mline
  contrib: $line"
grep -n -- '-1 -N\|\\-1 \\-N' "$man8" | grep -i 'nrpe\|command\[' &&
    fail "qmail-maintd(8) still gives a -1 -N NRPE command (-s -N is what monitors the daemon)"
# the CheckCommand object, whitespace aside, as contrib/icinga2 has it
sed -n '/^object CheckCommand "qmail\\-maintd" {$/,/^}$/p' "$man8" | sed 's/\\-/-/g; s/^[[:space:]]*//' > "$tmp/man.icinga"
sed -n '/^object CheckCommand "qmail-maintd" {$/,/^}$/p' "$top/contrib/icinga2/qmail-maintd.conf" |
    sed 's/^[[:space:]]*//' > "$tmp/contrib.icinga"
[ -s "$tmp/contrib.icinga" ] || fail "no CheckCommand \"qmail-maintd\" in contrib/icinga2/qmail-maintd.conf"
cmp -s "$tmp/man.icinga" "$tmp/contrib.icinga" ||
    { diff "$tmp/contrib.icinga" "$tmp/man.icinga"; fail "the Icinga 2 CheckCommand of qmail-maintd(8) is not contrib's"; }
grep -q '"-s", "-N"' "$tmp/contrib.icinga" || fail "the Icinga 2 CheckCommand does not run -s -N"

echo "contrib.sh: ok ($(($(date +%s) - start)) s)"
