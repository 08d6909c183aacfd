#!/bin/sh
# Between sweeps the daemon sleeps in the kernel: no periodic wake-ups.
. "$SOURCE_DIR/tests/it/lib.sh"
command -v strace >/dev/null || fail "strace is not installed"
make_qmailhome "$T/qmail"
export QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_CHECKS=slow MAINTD_INTERVAL=3600

"$MAINTD_TEST" > "$T/log" 2>&1 < /dev/null &
pid=$!
at_exit "kill -9 $pid"
wait_for "$T/log" 'sweep: done reason=start' 5 || fail "no start sweep"
sleep 0.2
timeout -s INT 3 strace -p $pid -o "$T/trace" 2>/dev/null || true
# one epoll_wait, entered before we attached or at once, never returning
grep -v 'detached' "$T/trace" | grep -q . && grep -E '^[a-z_0-9]+\(.*\) += ' "$T/trace" >&2 && fail "system calls returned while idle"
grep -q 'epoll_wait' "$T/trace" || fail "not sleeping in epoll_wait: $(cat "$T/trace")"
pass "idle for 3 s: $(grep -c '' "$T/trace") trace line(s), no system call returned"
kill -TERM $pid
wait $pid || fail "exit status"
