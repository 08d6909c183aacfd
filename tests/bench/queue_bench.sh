#!/bin/sh
# Times one-shot queue sweeps (steady state, with the cache of the previous
# sweep; and full, with no cache) and the queuestats light pass (steady
# state) against baselines on the same tree:
#   find queue -type f -printf '%i %m %U %s\n'        (a stat of every file: the floor)
#   find queue/mess/* -type f | wc -l                 (qmail-qstat-style counting)
#   find queue/mess queue/todo -type f | wc -l        (the light pass's baseline)
# usage (as root, after tests/setup-host.sh):
#   sh tests/bench/queue_bench.sh BUILD N [DIR] [RUNS] [DOMAINS]
# Generates a synthetic queue of N messages with BUILD/tests/queue-gen in
# DIR/queue (default /var/tmp/maintd-bench-N) unless it exists (with DOMAINS:
# remote recipients to that many domains, for the queue shape), runs every
# command once to warm the caches, then RUNS (default 3) times each; prints
# wall, user and system seconds and peak RSS of every run, and the best
# wall-time ratios. Deletes nothing: rm -rf DIR afterwards. Not run by CI.
set -eu
build=$(cd "$1" && pwd)
n=$2
dir=${3:-/var/tmp/maintd-bench-$n}
runs=${4:-3}
domains=${5:-}
mkdir -p "$dir/control"
echo localhost > "$dir/control/me"
if [ ! -d "$dir/queue" ]; then
	/usr/bin/time -f "generate $n messages: wall %e s" "$build/tests/queue-gen" "$dir/queue" "$n" \
	    ${domains:+23 $domains}
fi
cd "$dir"
res=$(mktemp)
measure() {	# measure NAME CMD...
	_name=$1
	shift
	/usr/bin/time -o "$res" -f '%e %U %S %M' "$@" > /dev/null || :
	read -r w u s m <<-EOF
	$(tail -1 "$res")
	EOF
	printf '%-7s wall %6.2f s  user %5.2f  sys %5.2f  peak RSS %6d KB\n' "$_name" "$w" "$u" "$s" "$m"
	echo "$_name $w" >> "$res.all"
}
: > "$res.all"
find queue -type f -printf '%i %m %U %s\n' > /dev/null	# warm
QMAILHOME=$dir MAINTD_STATE=$dir/state "$build/qmail-maintd" -1 -C queue > "$dir/sweep.out" || :
rm -rf "$dir/state-light"	# the light pass's first run: every entry stat'ed
QMAILHOME=$dir MAINTD_STATE=$dir/state-light measure light1 "$build/qmail-maintd" -1 -C queuestats || :
grep 'queue: stats' "$dir/sweep.out"
grep -E '^(warn|crit) ' "$dir/sweep.out" && echo "(findings above)"
i=0
while [ $i -lt "$runs" ]; do
	measure find find queue -type f -printf '%i %m %U %s\n'
	measure qstat sh -c 'find queue/mess/* -type f | wc -l'
	QMAILHOME=$dir MAINTD_STATE=$dir/state measure maintd "$build/qmail-maintd" -1 -C queue
	rm -rf "$dir/state-full"	# no cache: every info/local/remote file read
	QMAILHOME=$dir MAINTD_STATE=$dir/state-full measure full "$build/qmail-maintd" -1 -C queue
	measure mt sh -c 'find queue/mess queue/todo -type f | wc -l'
	# the light pass, steady state (exit 1 or 2: a big test queue trips the thresholds)
	QMAILHOME=$dir MAINTD_STATE=$dir/state-light measure light "$build/qmail-maintd" -1 -C queuestats || :
	i=$((i + 1))
done
awk '{ if (!($1 in best) || $2 < best[$1]) best[$1] = $2 }
    END { printf "best wall: find %.2f s, qstat %.2f s, maintd %.2f s (steady state, cache), " \
        "%.2f s (full, no cache); maintd/find = %.2f, full/find = %.2f\n", best["find"], best["qstat"],
        best["maintd"], best["full"], best["maintd"] / best["find"], best["full"] / best["find"]
        printf "light pass: %.2f s (steady state), %.2f s (first, no cache); " \
        "find queue/mess queue/todo -type f | wc -l %.2f s; light/find = %.2f\n", best["light"],
        best["light1"], best["mt"], best["light"] / best["mt"] }' "$res.all"
echo "load average: $(cat /proc/loadavg)"
rm -f "$res" "$res.all"
