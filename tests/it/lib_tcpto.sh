# Shared by tests/it/tcpto_*.sh (sourced after lib.sh): a QMAILHOME with a
# queue/lock/tcpto, the qmail-like helper, and a one-shot run of the check.
HELPER=$T/tcptohelper
${CC:-cc} -O -o "$HELPER" "$SOURCE_DIR/tests/it/tcptohelper.c" || fail "cannot build tcptohelper"
Q=$T/qmail
make_qmailhome "$Q"
mkdir -p "$Q/queue/lock"
TAB=$Q/queue/lock/tcpto
TR=$FIXTURES/tcpto-real
QMAILR_UID=$(id -u qmailr) || fail "no qmailr account: run tests/setup-host.sh"

# install_table FILE: as qmail's install makes it (qmailr, group qmail, 0644)
install_table() {
	rm -rf "$TAB"
	cp "$1" "$TAB"
	chown qmailr:qmail "$TAB"
	chmod 644 "$TAB"
}

# fixture_shift NAME EXTRA: the fixture's times moved so that its ages now are
# what qmail-tcpto printed, plus EXTRA seconds
fixture_shift() {
	install_table "$TR/$1.bin"
	"$HELPER" shift "$TAB" $(($(date +%s) - $(cat "$TR/$1.qmail-tcpto.time") - $2))
}

# run [VAR=value...]: qmail-maintd -1 -v -C tcpto; output in $T/out, status in $st
run() {
	st=0
	env QMAILHOME="$Q" MAINTD_STATE="$T/state" "$@" timeout 30 "$MAINTD" -1 -v -C tcpto \
	    > "$T/out" 2>&1 || st=$?
	check_grammar "$T/out"
}

expect_status() { [ "$st" = "$1" ] || { cat "$T/out" >&2; fail "$2: exit $st, want $1"; }; }
expect_line() { grep -Eq -- "$1" "$T/out" || { cat "$T/out" >&2; fail "$2: no line /$1/"; }; }
expect_no() { ! grep -Eq -- "$1" "$T/out" || { cat "$T/out" >&2; fail "$2: line /$1/"; }; }
size_of() { stat -c %s "$1"; }

# zero_slots FILE RECLEN SLOT...: what a prune of those records must leave
zero_slots() {
	_f=$1 _n=$2
	shift 2
	for _s in "$@"; do
		dd if=/dev/zero of="$_f" bs="$_n" seek="$_s" count=1 conv=notrunc 2>/dev/null
	done
}
