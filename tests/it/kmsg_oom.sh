#!/bin/sh
# kmsg: a real OOM kill of a program named qmail-send inside a small memory
# cgroup (the kernel prints an oom-kill: line and a Killed process line):
# reported once as oom-kill.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_kmsg.sh"

name=maintd-kmsg-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	CG=/sys/fs/cgroup/$name
	mkdir "$CG" && echo 16M > "$CG/memory.max" ||
		fail "cannot make a cgroup v2 with a memory limit"
	echo 0 > "$CG/memory.swap.max" 2>/dev/null || true
elif [ -d /sys/fs/cgroup/memory ]; then
	CG=/sys/fs/cgroup/memory/$name
	mkdir "$CG" && echo 16M > "$CG/memory.limit_in_bytes" ||
		fail "cannot make a cgroup v1 memory group"
else
	fail "no memory cgroup controller: cannot make the kernel OOM-kill"
fi
at_exit "rmdir $CG"

maintd "$T/init"	# a cursor
cc -O0 -o "$T/bin/qmail-send" "$SOURCE_DIR/tests/it/kmsg_hog.c" || fail "cannot compile"
# the child joins the group itself, then becomes qmail-send (same pid)
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2"' sh "$CG" "$T/bin/qmail-send" &
P=$!
wait $P && fail "qmail-send was not killed"
dmesg | grep -q "Killed process $P (qmail-send)" || fail "the kernel printed no OOM kill of $P"

maintd "$T/run1"
check_grammar "$T/run1.all"
[ "$RC" = 2 ] || { cat "$T/run1.all"; fail "exit $RC, want 2"; }
[ "$(count "$T/run1" "^crit kmsg: oom-kill prog=qmail-send pid=$P at=[0-9]+ boot_time=[0-9.]+ seq=[0-9]+$")" = 1 ] ||
	{ cat "$T/run1.all"; fail "want one oom-kill for pid $P"; }
[ "$(count "$T/run1" "^crit kmsg: crash .*pid=$P ")" = 0 ] || fail "an OOM kill is not a crash"
maintd "$T/run2"
[ "$(count "$T/run2" "pid=$P .* seq=[0-9]+( service=[^ ]+)?\$")" = 0 ] || fail "oom-kill read again"
[ "$(count "$T/run2" "^crit kmsg: oom-kill .*pid=$P .* again=1\$")" = 1 ] || fail "oom-kill not held"
pass "OOM kill in a memory cgroup: one oom-kill, once (then held, again=1)"
