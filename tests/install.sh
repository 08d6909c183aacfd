#!/bin/sh
# Follows README.md's Install section literally, as root on Debian 12, into a scratch root:
# the package lists (apt-get -s: resolvable, nothing installed), the build line run verbatim
# in a copy of the tree on a host where cmocka cannot be seen, `cmake --install` with DESTDIR,
# then the installed qmail-maintd -V, its pages found by man, and both service layouts made
# by the installed qmail-maintd-conf.
#
# cmocka is hidden, not removed: the build runs in a private mount namespace whose /usr is an
# overlay with whiteouts for every file of libcmocka-dev and libcmocka0, so for the build they
# do not exist, while other builds on the machine keep them. Where mount namespaces are not
# allowed (an unprivileged container), libcmocka-dev and libcmocka0 are purged for the build
# and libcmocka-dev is reinstalled on exit.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 100; }
start=$(date +%s)

fail() { echo "install.sh: FAIL: $*" >&2; exit 1; }
# a line of the README, verbatim: what this script runs is what the README says
readme_line() {
	grep -qxF -- "$1" README.md || grep -qxF -- "  $1" README.md ||
	    fail "README.md has no line: $1"
}

# qmail-maintd --help: usage on stdout, exit 0 (the Monitoring Plugins guidelines)
check_help() {
	out=$("$1" --help) || fail "$1 --help exits $?"
	printf '%s\n' "$out" | grep -qi 'usage' || fail "$1 --help prints no usage on stdout"
}

scratch=$(mktemp -d /tmp/maintd-install.XXXXXX)
chmod 755 "$scratch"	# man(1) may read as its own user
restore_cmocka=""
cleanup() {
	rm -rf "$scratch"
	if [ -n "$restore_cmocka" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		    libcmocka-dev >/dev/null || echo "install.sh: could not reinstall libcmocka-dev" >&2
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

echo "== install: packages"
build_pkgs=$(sed -n 's/^apt-get install \(.*[^ ]\) *# to build$/\1/p' README.md)
run_pkgs=$(sed -n 's/^apt-get install \(.*[^ ]\) *# to run$/\1/p' README.md)
[ -n "$build_pkgs" ] && [ -n "$run_pkgs" ] || fail "README.md: no 'apt-get install ... # to build/run' lines"
# shellcheck disable=SC2086
apt-get install -s -qq $build_pkgs $run_pkgs >/dev/null ||
    fail "the README's packages do not resolve: $build_pkgs $run_pkgs"
pkg-config --exists libevent libevent_openssl libcares 'openssl >= 3' ||
    fail "pkg-config modules named in the README: libevent libevent_openssl libcares openssl >= 3"

echo "== install: build without cmocka"
build='cmake -S . -B build -DBUILD_TESTING=OFF && cmake --build build && cmake --install build'
readme_line "$build"
mkdir "$scratch/src" "$scratch/root" "$scratch/ovl"
tar -C "$top" --exclude=./.git --exclude='./build' --exclude='./build-*' -cf - . |
    tar -C "$scratch/src" -xf -

# the build as the README says, where cmocka's files do not exist (the check proves it)
build_script='cd "$1"
	if pkg-config --exists cmocka || [ -n "$(find /usr/include /usr/lib /usr/local \( -name "libcmocka*" -o -name "cmocka*.h" \) -print)" ]; then
		echo "install.sh: cmocka is still visible" >&2; exit 1
	fi
	eval "$2"'
cmocka_files=$(dpkg -L libcmocka-dev libcmocka0 2>/dev/null | grep '^/usr/' || true)
hide='ovl=$1 files=$2; shift 2
	mount -t tmpfs tmpfs "$ovl"
	mkdir "$ovl/upper" "$ovl/work"
	for f in $files; do
		if [ -d "$f" ] && [ ! -L "$f" ]; then continue; fi
		rel=${f#/usr/}
		mkdir -p "$ovl/upper/${rel%/*}"
		mknod "$ovl/upper/$rel" c 0 0	# an overlayfs whiteout: the file is absent
	done
	mount -t overlay overlay -o "lowerdir=/usr,upperdir=$ovl/upper,workdir=$ovl/work" /usr
	exec "$@"'
export DESTDIR="$scratch/root" CMAKE_BUILD_PARALLEL_LEVEL=2
if unshare -m --propagation private sh -c "$hide" sh "$scratch/ovl" "$cmocka_files" true 2>/dev/null; then
	echo "(cmocka hidden by an overlay in a mount namespace)"
	unshare -m --propagation private sh -eu -c "$hide" sh "$scratch/ovl" "$cmocka_files" \
	    sh -eu -c "$build_script" sh "$scratch/src" "$build" > "$scratch/build.log" 2>&1 ||
	    { tail -40 "$scratch/build.log"; fail "the README's build"; }
else
	echo "(no mount namespaces here: cmocka purged for the build, reinstalled on exit)"
	if dpkg-query -W -f='${Status}\n' libcmocka-dev libcmocka0 2>/dev/null | grep -q "ok installed"; then
		restore_cmocka=1
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq libcmocka-dev libcmocka0 >/dev/null
	fi
	sh -eu -c "$build_script" sh "$scratch/src" "$build" > "$scratch/build.log" 2>&1 ||
	    { tail -40 "$scratch/build.log"; fail "the README's build"; }
fi
unset DESTDIR CMAKE_BUILD_PARALLEL_LEVEL
# shown, not fatal: the README's line has no -Werror (tests/all.sh's builds do)
if grep -q 'warning:' "$scratch/build.log"; then
	grep 'warning:' "$scratch/build.log" | sort -u
	echo "install.sh: the README's build printed compiler warnings"
fi

cache="$scratch/src/build/CMakeCache.txt"
grep -qx 'CMAKE_BUILD_TYPE:STRING=Release' "$cache" || fail "default build type is not Release"
grep -qx 'BUILD_TESTING:BOOL=OFF' "$cache" || fail "BUILD_TESTING is not OFF in the cache"
! grep -qi '^cmocka' "$cache" || fail "the configure looked for cmocka"
[ ! -e "$scratch/src/build/tests" ] || fail "test programs were configured"
mandir=$(sed -n 's/^MAINTD_MANDIR:PATH=//p' "$cache")
[ "$mandir" = /usr/local/share/man ] || fail "MAINTD_MANDIR defaults to '$mandir'"

# exactly the programs and pages, nothing else
r="$scratch/root"
got=$(cd "$r" && find . ! -type d | sort | tr '\n' ' ')
want="./usr/local/share/man/man8/qmail-maintd-conf.8 ./usr/local/share/man/man8/qmail-maintd.8 ./var/qmail/bin/qmail-maintd ./var/qmail/bin/qmail-maintd-conf "
[ "$got" = "$want" ] || fail "installed: $got; expected: $want"

echo "== install: the installed programs and pages"
v=$("$r/var/qmail/bin/qmail-maintd" -V) || fail "qmail-maintd -V exits $?"
printf '%s\n' "$v" | grep -qx 'qmail-maintd [0-9][0-9.]*' || fail "qmail-maintd -V says: $v"
check_help "$r/var/qmail/bin/qmail-maintd"
# Debian's man always searches the default MAINTD_MANDIR
grep -Eq "^MANDATORY_MANPATH[[:space:]]+$mandir/?\$" /etc/manpath.config ||
    fail "$mandir is not in /etc/manpath.config's MANDATORY_MANPATH"
for page in qmail-maintd qmail-maintd-conf; do
	w=$(man -M "$r$mandir" -w "$page") || fail "man does not find $page"
	[ "$w" = "$r$mandir/man8/$page.8" ] || fail "man finds $page at $w"
	MANWIDTH=80 man -M "$r$mandir" -P cat "$page" 2>/dev/null | grep -q "^NAME" ||
	    fail "man does not render $page"
done

echo "== install: the probe process's account, the service directory, both layouts"
readme_line 'groupadd -r qmaintd && useradd -r -g qmaintd -d /nonexistent -s /usr/sbin/nologin qmaintd'
id qmaintd >/dev/null 2>&1 ||
    { groupadd -r qmaintd && useradd -r -g qmaintd -d /nonexistent -s /usr/sbin/nologin qmaintd; } ||
    fail "the README's account line"
conf="$r/var/qmail/bin/qmail-maintd-conf qmaintd qmaill $r/var/qmail/maintd"
readme_line '/var/qmail/bin/qmail-maintd-conf qmaintd qmaill /var/qmail/maintd'
$conf || fail "qmail-maintd-conf exits $?"
svcdir="$r/var/qmail/maintd"
grep -qx "exec envdir ./env $r/var/qmail/bin/qmail-maintd" "$svcdir/run" ||
    fail "run does not start the installed qmail-maintd: $(cat "$svcdir/run")"
[ -x "$svcdir/log/run" ] && [ -d "$svcdir/env" ] && [ -f "$svcdir/env/MAINTD_SERVICES" ] ||
    fail "qmail-maintd-conf made no log/run or env/"
[ "$(cat "$svcdir/env/MAINTD_PROBEUSER")" = qmaintd ] || fail "env/MAINTD_PROBEUSER is not ACCT"
[ "$(cat "$svcdir/env/MAINTD_PROBEROOT")" = "$svcdir/root" ] || fail "env/MAINTD_PROBEROOT"
[ -d "$svcdir/root" ] && [ -z "$(ls -A "$svcdir/root")" ] &&
    [ "$(stat -c %U:%a "$svcdir/root" "$svcdir/state" | tr '\n' ' ')" = "root:755 root:711 " ] ||
    fail "root/ and state/: $(stat -c '%n %U:%a' "$svcdir/root" "$svcdir/state")"
"$r/var/qmail/bin/qmail-maintd-conf" root qmaill "$scratch/refused" 2>/dev/null &&
    fail "qmail-maintd-conf took root as the probe account"
# Debian's daemontools-run
readme_line 'echo /etc/service > /var/qmail/maintd/env/MAINTD_SERVICES'
readme_line 'ln -s /var/qmail/maintd /etc/service/qmail-maintd'
echo /etc/service > "$svcdir/env/MAINTD_SERVICES"
mkdir -p "$r/etc/service"
ln -s /var/qmail/maintd "$r/etc/service/qmail-maintd"
[ "$(cat "$svcdir/env/MAINTD_SERVICES")" = /etc/service ] || fail "env/MAINTD_SERVICES"
# the installed daemon starts on that env/, as run does (one sweep of the svc check; 0-3 are
# its findings, 100 and 111 a start it could not make), with the scratch root's qmail
mkdir -p "$r/var/qmail/control"
echo mx.example.test > "$r/var/qmail/control/me"
echo "$r/var/qmail" > "$svcdir/env/QMAILHOME"
rc=0
(cd "$svcdir" && envdir ./env "$r/var/qmail/bin/qmail-maintd" -1 -C svc) > "$scratch/once.log" 2>&1 ||
    rc=$?
[ "$rc" -le 3 ] && grep -q '^info sweep: done' "$scratch/once.log" ||
    { cat "$scratch/once.log"; fail "qmail-maintd -1 on the env/ of qmail-maintd-conf exits $rc"; }
# djb's /service
readme_line 'ln -s /var/qmail/maintd /service/qmail-maintd'
mkdir -p "$r/service"
ln -s /var/qmail/maintd "$r/service/qmail-maintd"
[ "$(readlink "$r/service/qmail-maintd")" = /var/qmail/maintd ] || fail "/service link"

echo "install.sh: ok ($(($(date +%s) - start)) s)"
