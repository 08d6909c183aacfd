#!/bin/sh
# A crash loop end to end: a supervised service whose program is named like a
# qmail binary and segfaults at start. supervise restarts it every second;
# the kernel logs each segfault. Two -1 runs a few seconds apart give both
# "crit kmsg: crash ... service=" and "warn svc: flapping ... prog=".
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-svc.sh"

dd if=/dev/kmsg iflag=nonblock bs=8192 count=1 of=/dev/null 2>/dev/null ||
	fail "/dev/kmsg is not readable: this test needs root and a Linux kernel log"
make_qmailhome "$T/qmail"
mkdir -p "$T/bin"
# a name of its own (at most 15 bytes, the kernel's comm) so that crashes of
# parallel tests are not taken for this one's
prog=qmail-lp$(($$ % 100000))
cc -O0 -o "$T/bin/$prog" "$SOURCE_DIR/tests/it/kmsg_crasher.c" || fail "cannot compile the crasher"
mkservice "$T/sv/loop" "exec $T/bin/$prog segv"
mkservice "$T/sv/fine" 'exec sleep 300'
start_svscan "$T/sv"
mkdir -p "$T/service"
ln -s "$T/sv/loop" "$T/service/smtpd"
ln -s "$T/sv/fine" "$T/service/fine"
S=$T/service

# until the kernel has logged a crash of it
n=0
until dmesg | grep -Fq -- "$prog["; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "the kernel logged no crash of $prog"
	sleep 0.1
done

run() {
	rc=0
	MAINTD_SERVICES=$S MAINTD_STATE=$T/state QMAILHOME=$T/qmail MAINTD_SVC_MINUP=2 \
	    MAINTD_KMSG_PROGS=$prog timeout 30 "$MAINTD" -1 ${PROM:+-P "$PROM"} -C kmsg,svc < /dev/null > "$1" 2> "$1.err" || rc=$?
	[ ! -s "$1.err" ] || { cat "$1.err" >&2; fail "stderr is not empty"; }
	check_grammar "$1"
	[ "$rc" = 2 ] || { cat "$1"; fail "exit $rc, wanted 2"; }
}
sleep 2
run "$T/run1"
grep -Eq "^crit kmsg: crash prog=$prog pid=[0-9]+ signal=SIGSEGV " "$T/run1" || { cat "$T/run1"; fail "no crash in run 1"; }
# a new crash logged since (the kernel rate-limits these lines: parallel tests may delay it)
seen=$(dmesg | grep -cF -- "$prog[")
n=0
while [ "$(dmesg | grep -cF -- "$prog[")" -le "$seen" ]; do
	n=$((n + 1))
	[ $n -lt 150 ] || fail "the kernel logged no new crash of $prog"
	sleep 0.1
done
sleep 1
PROM=$T/m.prom run "$T/run2"
cat "$T/run2"
grep -Eq "^crit kmsg: crash prog=$prog pid=[0-9]+ signal=SIGSEGV .* service=$S/smtpd$" "$T/run2" ||
	fail "no crash line with service= in run 2"
grep -Eq "^warn svc: flapping service=$S/smtpd reason=short-uptime uptime=[0-9]+ restarts=[0-9]+ prog=$prog$" "$T/run2" ||
	fail "no flapping line with prog= in run 2"
! grep -Eq "service=$S/fine|flapping service=$S/fine" "$T/run2" || fail "the healthy service was referenced"
# the sweep ran kmsg before svc, so svc saw this run's crashes
k=$(grep -n '^crit kmsg: crash ' "$T/run2" | tail -1 | cut -d: -f1)
v=$(grep -n '^warn svc: flapping ' "$T/run2" | head -1 | cut -d: -f1)
[ "$k" -lt "$v" ] || fail "svc ran before kmsg had read the crashes"
# and as metrics: the crashes counted by prog, the service's restarts
/usr/bin/python3 "$SOURCE_DIR/tests/it/promcheck.py" "$T/m.prom" > "$T/samples" || fail "m.prom does not parse"
# (the crashes of run 1, still held, are repeated with again=1: not counted twice)
crashes=$(grep "^crit kmsg: crash prog=$prog " "$T/run2" | grep -vc ' again=1$')
grep -Fqx "qmail_kmsg_crashes_total{prog=\"$prog\"} $crashes" "$T/samples" ||
	{ cat "$T/samples"; fail "qmail_kmsg_crashes_total is not the $crashes crash lines"; }
grep -Eq "^qmail_svc_restarts_total\{service=\"$S/smtpd\"\} [1-9]" "$T/samples" || fail "no restarts counted"
grep -Fqx 'qmail_maintd_findings{check="svc",level="warn"} 1' "$T/samples" || fail "svc warn count"
pass "kmsg crash and svc flapping carry each other's reference"
