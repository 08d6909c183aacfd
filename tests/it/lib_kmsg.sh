# Helpers for the kmsg tests (sourced after lib.sh): programs that really
# crash, and the kernel's own word on which crashes it printed.

dd if=/dev/kmsg iflag=nonblock bs=8192 count=1 of=/dev/null 2>/dev/null ||
	fail "/dev/kmsg is not readable: the kmsg tests need root and a Linux kernel log"

mkdir -p "$T/bin" "$T/qmail" "$T/state"
make_qmailhome "$T/qmail"
cc -O0 -o "$T/bin/crasher" "$SOURCE_DIR/tests/it/kmsg_crasher.c" || fail "cannot compile the crasher"

# kernel records of this test have boot_time >= UP0: older lines with a reused pid are not ours
UP0=$(cut -d' ' -f1 /proc/uptime)
UP0=${UP0%.*}

# crash NAME MODE: runs a copy of the crasher named NAME until the kernel has
# printed its line (the kernel rate-limits them), sets PID to its pid. Only
# a line since UP0 counts: pid_max can be 32768, and an earlier crash with
# the same pid is no proof that this one was printed. With WANT_PID set
# (root), the crasher gets that pid through ns_last_pid, to make such a reuse.
crash() {
	cp "$T/bin/crasher" "$T/bin/$1"
	_try=0
	while [ $_try -lt 4 ]; do
		[ -z "${WANT_PID:-}" ] || echo $((WANT_PID - 1)) > /proc/sys/kernel/ns_last_pid
		"$T/bin/$1" "$2" &
		PID=$!
		wait $PID || true
		if [ -n "${WANT_PID:-}" ] && [ "$PID" != "$WANT_PID" ]; then
			_try=$((_try + 1))	# another process took it first
			continue
		fi
		_c=$(printf '%.15s' "$1")
		_n=0
		while [ $_n -lt 20 ]; do
			dmesg | awk -v t0="$UP0" -v tag="$_c[$PID]" '
				{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t) }
				t + 0 >= t0 && index($0, tag) { found = 1 }
				END { exit !found }' && return 0
			sleep 0.05
			_n=$((_n + 1))
		done
		_try=$((_try + 1))
		sleep 5		# printk_ratelimit: 10 lines per 5 s
	done
	fail "the kernel printed no line for $1 $2 (pid $PID${WANT_PID:+, wanted pid $WANT_PID})"
}

# ours FILE: the lines of FILE without boot_time or with boot_time >= UP0
ours() {
	awk -v t0="$UP0" '{ if (match($0, / boot_time=[0-9.]+/)) { v = substr($0, RSTART + 11, RLENGTH - 11); if (v + 0 < t0) next } print }' "$1"
}

# maintd OUT [ENV=VALUE...]: qmail-maintd -1 -C kmsg with the test's state; sets RC
maintd() {
	_out=$1
	shift
	RC=0
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" "$@" "$MAINTD" -1 -v -C kmsg > "$_out.all" 2>&1 || RC=$?
	ours "$_out.all" > "$_out"
}

# count_ours FILE ERE: count, over ours FILE (a daemon's own log, not filtered)
count_ours() { ours "$1" | grep -Ec -- "$2" || true; }
