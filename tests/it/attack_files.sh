# Issue 13's attacks on the files of the root process, made by the account
# that owns the directory (runuser): the metrics directory (a prometheus-like
# account: nobody here) with links planted at the temporary and the final
# name, dangling and to a root 0600 file; and a state directory owned by
# another account with a planted lock link. Each time: the victim is
# byte-identical, no file appears outside the intended place, no byte of the
# victim reaches the log, and one line says what was refused.
. "$SOURCE_DIR/tests/it/lib.sh"
H=$T/home
make_qmailhome "$H"
V=$T/victim
printf 'SECRET-VICTIM-BYTES\n' > "$V"
chmod 600 "$V"
cp "$V" "$T/victim.orig"
as() { runuser -u nobody -- "$@"; }
victim_intact() {
	cmp -s "$V" "$T/victim.orig" || fail "$1: the victim changed"
	[ "$(stat -c %U:%a "$V")" = root:600 ] || fail "$1: the victim's owner or mode changed"
	! grep -q SECRET "$2" || fail "$1: victim bytes in the log"
}

# the metrics directory belongs to nobody, who plants links
P=$T/prom
mkdir "$P"
chown nobody "$P"
as ln -s "$V" "$P/.qmail.prom.tmp"
as ln -s "$V" "$P/qmail.prom.tmp"
as ln -s "$T/dangling-target" "$P/qmail.prom"
QMAILHOME=$H MAINTD_STATE=$T/state MAINTD_CHECKS=slow "$MAINTD_TEST" -1 -P "$P/qmail.prom" \
    > "$T/out1" 2>&1 || true
check_grammar "$T/out1"
victim_intact "metrics links" "$T/out1"
[ ! -e "$T/dangling-target" ] || fail "a file was made through the dangling link"
[ -f "$P/qmail.prom" ] && [ ! -L "$P/qmail.prom" ] || fail "qmail.prom is not a file: $(ls -la "$P")"
[ "$(stat -c %U:%a "$P/qmail.prom")" = root:644 ] || fail "qmail.prom: $(stat -c %U:%a "$P/qmail.prom")"
grep -q '^qmail_maintd_sweep_duration_seconds ' "$P/qmail.prom" || fail "no metrics in qmail.prom"
[ ! -e "$P/.qmail.prom.tmp" ] || fail "the temporary name is left behind"
grep -Eq "^warn maintd: promdir-writable dir=$P uid=$(id -u nobody) mode=0755\$" "$T/out1" ||
    fail "no promdir-writable line: $(cat "$T/out1")"
pass "metrics directory of another account: links replaced, never followed, said once"

# the directory itself swapped for a link to a root directory between runs
as mv "$P" "$T/prom.old" 2>/dev/null || mv "$P" "$T/prom.old"
mkdir "$T/rootdir" && chmod 700 "$T/rootdir"
ln -s "$T/rootdir" "$P"
QMAILHOME=$H MAINTD_STATE=$T/state MAINTD_CHECKS=slow "$MAINTD_TEST" -1 -P "$P/qmail.prom" \
    > "$T/out2" 2>&1 && fail "a metrics directory that is a link was accepted"
[ -z "$(ls -A "$T/rootdir")" ] || fail "a file was made through the directory link"
grep -q "^fatal maintd: bad-config var=-P value=$P/qmail.prom reason=symlink\$" "$T/out2" ||
    fail "no bad-config line: $(cat "$T/out2")"
pass "a metrics directory replaced by a link: refused, nothing written"

# a state directory owned by another account, with a link planted at lock
S=$T/state-other
mkdir "$S" && chown nobody "$S" && chmod 700 "$S"
as ln -s "$V" "$S/lock"
as ln -s "$T/dangling-state" "$S/kmsg.cursor.tmp"
rc=0
QMAILHOME=$H MAINTD_STATE=$S MAINTD_CHECKS=slow "$MAINTD_TEST" -1 > "$T/out3" 2>&1 || rc=$?
[ "$rc" = 111 ] || fail "exit $rc with a state directory of another account"
victim_intact "state directory" "$T/out3"
[ ! -e "$T/dangling-state" ] || fail "a file was made through a link in the state directory"
[ "$(grep -c '' "$T/out3")" = 1 ] &&
    grep -q "^fatal maintd: bad-config var=MAINTD_STATE value=$S error=EPERM\$" "$T/out3" ||
    fail "not one bad-config line: $(cat "$T/out3")"
# and one writable by others, though root's
S2=$T/state-open
mkdir "$S2" && chmod 1777 "$S2"
rc=0
QMAILHOME=$H MAINTD_STATE=$S2 MAINTD_CHECKS=slow "$MAINTD_TEST" -1 > "$T/out4" 2>&1 || rc=$?
[ "$rc" = 111 ] && grep -q "^fatal maintd: bad-config var=MAINTD_STATE value=$S2 error=EACCES\$" "$T/out4" ||
    fail "a world-writable state directory: exit $rc, $(cat "$T/out4")"
[ -z "$(ls -A "$S2")" ] || fail "files made in a world-writable state directory"
pass "state directory of another account or writable by others: refused, nothing opened in it"
