#!/bin/sh
# Checks the fleet kit in contrib/ (Debian 12, packages from tests/deps/contrib.txt):
#   promtool check rules and promtool test rules on the Prometheus alerting rules;
#   tests/contrib_lint.py: the rules' and the Grafana dashboard's metric names are families
#   qmail-maintd writes (grepped from lib/*.c and daemon/*.c), every alert is tested firing
#   and quiet, the dashboard is JSON on a datasource variable; the dashboard's queries through
#   promtool's PromQL parser; the Icinga 2 CheckCommand through icinga2 daemon -C; the NRPE
#   command's form.
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
printf '%s\n' "$line" | grep -Eq '^command\[[A-Za-z0-9_]+\]=/[^ ]+ .*/var/qmail/bin/qmail-maintd -s -N$' ||
    fail "nrpe/qmail-maintd.cfg: not command[NAME]=/... /var/qmail/bin/qmail-maintd -s -N: $line"

echo "contrib.sh: ok ($(($(date +%s) - start)) s)"
