#!/bin/sh
# Prepares a fresh Debian 12 machine (as root) for building and testing:
# installs every package in tests/deps/*.txt and creates the qmail accounts
# with the ids the fixtures in tests/fixtures carry (INSTALL.ids' numbers).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "setup-host.sh: run as root" >&2; exit 100; }

pkgs=$(cat "$top"/tests/deps/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sort -u | tr '\n' ' ')
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# services in these packages must not start on their own: tests start their own
	ours=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		ours=1
	fi
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	[ -z "$ours" ] || rm -f /usr/sbin/policy-rc.d
fi

group() { getent group "$1" >/dev/null || groupadd -g "$2" "$1"; }
user() { getent passwd "$1" >/dev/null || useradd -u "$2" -g "$3" -d /var/qmail -s /usr/sbin/nologin -M "$1"; }
group qmail 2107
group nofiles 2108
user alias 7790 nofiles
user qmaild 7791 nofiles
user qmaill 7792 nofiles
user qmailp 7793 nofiles
user qmailq 7794 qmail
user qmailr 7795 qmail
user qmails 7796 qmail
# the probe process's account (MAINTD_PROBEUSER), as README's Install makes it
group qmaintd 2109
user qmaintd 7797 qmaintd
exit 0
