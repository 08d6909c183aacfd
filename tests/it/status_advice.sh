#!/bin/sh
# daemon/advice.cmake: the man page's "What to do:" sentences become the C
# table qmail-maintd -s prints; roff never leaks into it, and a page it cannot
# read faithfully stops the build.
. "$SOURCE_DIR/tests/it/lib.sh"
GEN=$SOURCE_DIR/daemon/advice.cmake
gen() { cmake -DMAN="$1" -DOUT="$2" -P "$GEN"; }

cat > "$T/page.8" <<'PAGE'
.TH x 8
.SH OPTIONS
.TP
.B warn nothere: not-an-event
What to do: never in the table (not under EVENTS).
.SH EVENTS
.SS one
.TP
.B warn one: plain path=P [uid=N]
Text; with [brackets] and a; semicolon.
.br
What to do: Run \fBsvc \-u\fR on [it]; then \e check "quotes" ??( and;
go on over a second line.
.TP
.B crit|warn one: alt-a x=1 \fR/\fB alt-b \fR|\fB error=ENAME
.br
What to do: One for both.
.TP
.B info one: no-advice
Only a description.
.TP
.B warn one: first-head path=P
.TQ
.B crit one: second-head id=N
.br
What to do: Shared by two heads.
.IP
an indented paragraph of the same item after it
.TP
.B warn CHECK: every-check
.br
What to do: Any check.
.SH MONITORING
.TP
.B info one: after-events
What to do: not in the table either.
PAGE
gen "$T/page.8" "$T/advice.c" || fail "the generator refused a good page"
cat "$T/advice.c"
grep -q 'nothere\|after-events' "$T/advice.c" && fail "an entry from outside EVENTS"
grep -qF '{ "one", "plain", 4, "Run svc -u on [it]; then \\ check \"quotes\" \?\?( and; go on over a second line." },' "$T/advice.c" ||
    fail "escapes, brackets, semicolons or the run-on line"
grep -qF '{ "one", "alt-a", 12, "One for both." },' "$T/advice.c" || fail "alt-a"
grep -qF '{ "one", "alt-b", 12, "One for both." },' "$T/advice.c" || fail "alt-b"
grep -q 'ENAME' "$T/advice.c" && fail "a field alternative taken for an event"
grep -qF '{ "one", "no-advice", 2, NULL },' "$T/advice.c" || fail "no-advice"
grep -qF '{ "one", "first-head", 4, "Shared by two heads." },' "$T/advice.c" || fail ".TP head"
grep -qF '{ "one", "second-head", 8, "Shared by two heads." },' "$T/advice.c" || fail ".TQ head"
grep -qF '{ "CHECK", "every-check", 4, "Any check." },' "$T/advice.c" || fail "CHECK"
[ "$(grep -c '^	{ ' "$T/advice.c")" -eq 7 ] || fail "not 7 entries"
# sorted by check then event, as the lookup's binary search wants
grep '^	{ ' "$T/advice.c" | awk -F'"' '{ print $2 " " $4 }' > "$T/keys"
LC_ALL=C sort -c "$T/keys" || fail "not sorted"
cc -std=c11 -Wall -Wextra -Werror -I"$SOURCE_DIR/daemon" -I"$SOURCE_DIR/lib" -c "$T/advice.c" \
    -o "$T/advice.o" || fail "the table does not compile"
pass "good page: every head, alternative and .TQ; escapes gone; sorted; compiles with -Werror"

sed 's/then \\e check/then \\(bu check/' "$T/page.8" > "$T/bad1.8"
gen "$T/bad1.8" "$T/bad1.c" 2> "$T/err1" && fail "an unknown escape was accepted"
grep -q 'an escape advice.cmake does not know' "$T/err1" || fail "message: $(cat "$T/err1")"
[ ! -e "$T/bad1.c" ] || fail "a table was left behind"
awk '{ print } /^What to do: One for both/ { print "What to do: twice." }' "$T/page.8" > "$T/bad2.8"
gen "$T/bad2.8" "$T/bad2.c" 2> "$T/err2" && fail "two What to do: in one paragraph accepted"
grep -q 'a second "What to do:"' "$T/err2" || fail "message: $(cat "$T/err2")"
sed '/^\.SH EVENTS/,$d' "$T/page.8" > "$T/bad3.8"
gen "$T/bad3.8" "$T/bad3.c" 2> "$T/err3" && fail "a page without events accepted"
pass "an unknown escape, two sentences, no EVENTS: the build stops, nothing half-written"

gen "$SOURCE_DIR/docs/qmail-maintd.8" "$T/real.c" || fail "the real page"
for e in '"maintd", "start"' '"sweep", "too-many-findings"' '"CHECK", "timeout"'; do
	grep -F "{ $e," "$T/real.c" | grep -qv NULL || fail "no advice for $e"
done
pass "qmail-maintd(8): $(grep -c '^	{ ' "$T/real.c") event entries, $(grep -c 'NULL },$' "$T/real.c") without What to do: yet"
