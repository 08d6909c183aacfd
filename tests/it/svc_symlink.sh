#!/bin/sh
# svc: a service directory that belongs to the service's account (qmaild
# here) lets that account replace supervise/ with anything. Each attack is
# planted by the real qmaild account; the root run follows no link it made,
# opens no planted name for writing, says in one line what it refused, and
# no byte (nor the size) of the victim reaches the log. The victims stay
# byte-identical and no file appears elsewhere. A link root made (runit's
# packages link supervise/ to /run) is still followed.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-svc.sh"
command -v runuser >/dev/null || fail "runuser (util-linux) is needed"
command -v strace >/dev/null || fail "strace is needed"
command -v supervise >/dev/null || fail "daemontools is not installed"
id qmaild >/dev/null 2>&1 || fail "no qmaild account: run tests/setup-host.sh"

make_qmailhome "$T/qmail"
as_owner() { runuser -u qmaild -- "$@"; }

# the victims: an /etc/shadow-like root 0600 file and another root file
V=$T/victims
mkdir -m 755 "$V"
python3 - "$V/shadow" <<'PY'
import sys
lines = ['root:$6$SECRETSALT$%s:19000:0:99999:7:::' % ('Q' * 86)]
lines += ['user%02d:!:19000:0:99999:7:::' % i for i in range(30)]
b = ('\n'.join(lines) + '\n').encode()
b += b'#' * (1035 - len(b)) if len(b) < 1035 else b''
open(sys.argv[1], 'wb').write(b[:1034] + b'\n')
PY
[ "$(stat -c %s "$V/shadow")" = 1035 ] || fail "the victim is not 1035 bytes"
echo "root's own file" > "$V/rootfile"
chmod 600 "$V/shadow" "$V/rootfile"
cp -p "$V/shadow" "$T/shadow.orig"
cp -p "$V/rootfile" "$T/rootfile.orig"

# the services: directories that belong to qmaild, in an svscan directory of root's
SV=$T/service
mkdir -m 755 "$SV"
mk() {	# NAME: a service of qmaild's with a real (root) supervise/ left by supervise
	mkservice "$SV/$1" 'exec sleep 300'
	mkdir -m 700 "$SV/$1/supervise"
	chown qmaild "$SV/$1"
}

snapshot() { (cd "$V" && ls -la --time-style=+%s .) | grep -v ' \.\.\?$'; }

# run OUT: the one-shot svc run as root under strace
run() {
	rc=0
	# (LeakSanitizer cannot run under ptrace: an ASan build runs without it here)
	MAINTD_SERVICES=$SV MAINTD_STATE=$T/state QMAILHOME=$T/qmail MAINTD_SVC_MINUP=2 \
	    ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$1.trace" -e trace=open,openat \
	    timeout 30 "$MAINTD" -1 -v -C svc < /dev/null > "$1" 2>&1 || rc=$?
	check_grammar "$1"
}

# clean OUT: no byte of the victims, nor their size, in the log; the victims
# unchanged; no file beside them; none of them opened
clean() {
	! grep -E 'SECRET|QQQQ|user0|root.s own|1035|size=' "$1" || fail "$1: bytes of a victim in the log"
	cmp "$T/shadow.orig" "$V/shadow" || fail "$1: the shadow-like file changed"
	cmp "$T/rootfile.orig" "$V/rootfile" || fail "$1: the root file changed"
	snapshot > "$1.after"
	diff "$T/snap.before" "$1.after" || fail "$1: files changed beside the victims"
	! grep -F "$V" "$1.trace" | grep -v ENOENT || fail "$1: a victim was opened"
}

mkdir -m 700 "$T/state"
snapshot > "$T/snap.before"

# 1. supervise/ replaced: ok -> a root file, status -> the shadow-like file
mk a1
as_owner mv "$SV/a1/supervise" "$SV/a1/supervise.root" 2>/dev/null || {
	# supervise/ is root's and qmaild owns the service directory: rename works
	fail "qmaild could not rename supervise/"
}
as_owner mkdir "$SV/a1/supervise"
as_owner ln -s "$V/rootfile" "$SV/a1/supervise/ok"
as_owner ln -s "$V/shadow" "$SV/a1/supervise/status"
run "$T/out1"
grep -q "^warn svc: bad-file service=$SV/a1 file=supervise/ok type=symlink want=fifo\$" "$T/out1" ||
	{ cat "$T/out1"; fail "links at ok and status: no bad-file line for ok"; }
[ "$(count "$T/out1" "service=$SV/a1( |\$)")" = 1 ] || { cat "$T/out1"; fail "more than one line for a1"; }
! grep -E 'openat\([^)]*"ok", O_WRONLY' "$T/out1.trace" || fail "the planted ok was opened for writing"
clean "$T/out1"
pass "links at supervise/ok and supervise/status: one bad-file line, nothing opened"

# 2. a real FIFO at ok that qmaild holds open ("supervised"), status -> shadow
mk a2
as_owner mv "$SV/a2/supervise" "$SV/a2/supervise.root"
as_owner mkdir "$SV/a2/supervise"
as_owner mkfifo "$SV/a2/supervise/ok"
runuser -u qmaild -- sh -c 'exec sleep 300 <> "$1"' sh "$SV/a2/supervise/ok" &
kill_later $!
as_owner ln -s "$V/shadow" "$SV/a2/supervise/status"
# a dangling link where supervise writes nothing and we create nothing
as_owner ln -s "$V/created-by-root" "$SV/a2/supervise/control"
run "$T/out2"
grep -q "^warn svc: bad-file service=$SV/a2 file=supervise/status type=symlink want=file\$" "$T/out2" ||
	{ cat "$T/out2"; fail "link at status: no bad-file line"; }
[ "$(count "$T/out2" "service=$SV/a2( |\$)")" = 1 ] || { cat "$T/out2"; fail "more than one line for a2"; }
[ ! -e "$V/created-by-root" ] || fail "a file was created through the dangling link"
clean "$T/out2"
pass "link at supervise/status: bad-file, no size, no byte"

# 3. supervise itself a link of qmaild's, to a directory of anything
mkdir "$T/owned"
chown qmaild "$T/owned"
mk a3
as_owner mv "$SV/a3/supervise" "$SV/a3/supervise.root"
as_owner mkdir "$T/owned/sup3"
as_owner mkfifo "$T/owned/sup3/ok"
as_owner ln -s "$V/shadow" "$T/owned/sup3/status"
as_owner ln -s "$T/owned/sup3" "$SV/a3/supervise"
# and a log/ that is a link of qmaild's
as_owner mkdir "$T/owned/log3"
as_owner ln -s "$T/owned/log3" "$SV/a3/log"
run "$T/out3"
grep -q "^warn svc: bad-file service=$SV/a3 file=supervise type=symlink want=directory\$" "$T/out3" ||
	{ cat "$T/out3"; fail "supervise a link: no bad-file line"; }
grep -q "^warn svc: bad-file service=$SV/a3 file=log type=symlink want=directory\$" "$T/out3" ||
	{ cat "$T/out3"; fail "log a link: no bad-file line"; }
! grep -F "$T/owned" "$T/out3.trace" | grep -v ENOENT || fail "qmaild's link was followed"
clean "$T/out3"
pass "supervise/ and log/ as links of qmaild's: refused, not followed"

# 4. a link made by root (runit's packages: supervise -> /run/...) is followed
rm -rf "$SV/a1" "$SV/a2" "$SV/a3"
mkservice "$SV/rl" 'exec sleep 300'
mkdir -m 700 "$T/run-sup"
ln -s "$T/run-sup" "$SV/rl/supervise"
supervise "$SV/rl" > /dev/null 2>&1 &
SUP=$!
kill_later "$SUP"
wait_up "$SV/rl" 10 || fail "rl did not start"
kill_later "$(status_pid "$SV/rl")"
sleep 2.5	# up longer than MAINTD_SVC_MINUP
run "$T/out4"
grep -q "^info svc: service path=$SV/rl state=up pid=[1-9][0-9]* .* layout=daemontools\$" "$T/out4" ||
	{ cat "$T/out4"; fail "a root-made supervise link was not followed"; }
! grep -q 'bad-file' "$T/out4" || { cat "$T/out4"; fail "root's link refused"; }
[ "$rc" = 0 ] || { cat "$T/out4"; fail "root's link: exit $rc"; }
svc -dx "$SV/rl"
pass "a supervise/ link made by root: followed (runit's layout)"

# 5. the state: svc.state and its temporary name are never followed (the
# state directory is the daemon's own; a link there is refused all the same)
rm -f "$T/state/svc.state"
ln -s "$V/rootfile" "$T/state/svc.state"
ln -s "$V/shadow" "$T/state/.svc.state.tmp"
run "$T/out5"
[ -f "$T/state/svc.state" ] && [ ! -L "$T/state/svc.state" ] || fail "svc.state not replaced by a file"
[ ! -e "$T/state/.svc.state.tmp" ] || fail "the temporary name was left"
head -1 "$T/state/svc.state" | grep -q '^svc-state 1$' || fail "svc.state: $(head -1 "$T/state/svc.state")"
clean "$T/out5"
pass "links at svc.state and .svc.state.tmp: replaced, never followed"
