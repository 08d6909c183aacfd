# tls check against scripted servers: what a peer sees from services that do
# not greet, are busy, drop STARTTLS, flood, inject, speak only TLS 1.0 or
# offer AUTH in clear; and all targets probed concurrently.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/libtls.sh"

make_qmailhome "$T/qmail" mx1.example.test
tls_ca "$T/ca"
now=$(tls_date "-1 day")
later=$(tls_date "+365 days")
tls_cert "$T/ca" "$T/good" mx1.example.test "$now" "$later"

tls_fake --cert "$T/good.pem" refused:closed silent:silent busy:smtp-busy \
    pbusy:pop3-busy close:starttls-close long:longcap inject:inject \
    plain:smtp:no-starttls pplain:pop3:no-starttls auth:submission:auth-clear \
    old:smtps:tls10 good:smtp full:full tarpit:tarpit hangup:hangup \
    slow1:smtp:delay=3 slow2:smtp:delay=3 slow3:smtp:delay=3 slow4:smtp:delay=3

tls_run "$T/out1" MAINTD_TLS_DANE=0 MAINTD_TLS_TIMEOUT=2 MAINTD_TLS_TARGETS="
    smtp://127.0.0.1:$p_refused smtp://127.0.0.1:$p_silent smtp://127.0.0.1:$p_busy
    pop3://127.0.0.1:$p_pbusy smtp://127.0.0.1:$p_close smtp://127.0.0.1:$p_long
    smtp://127.0.0.1:$p_inject smtp://127.0.0.1:$p_plain pop3://127.0.0.1:$p_pplain
    submission://127.0.0.1:$p_auth smtps://127.0.0.1:$p_old smtp://127.0.0.1:$p_good
    smtp://127.0.0.1:$p_full smtp://127.0.0.1:$p_tarpit pop3://127.0.0.1:$p_hangup
    smtps://127.0.0.1:$p_plain"
check_grammar "$T/out1"
o=$T/out1
# the targets are named (MAINTD_TLS_TARGETS): each is required, refused or
# not answering the SYN
expect "$o" "^crit tls: not-listening target=smtp://127.0.0.1:$p_refused reason=refused\$" 1
expect "$o" "^crit tls: no-banner target=smtp://127.0.0.1:$p_silent\$" 1
expect "$o" "^warn tls: busy target=smtp://127.0.0.1:$p_busy phase=greeting reply=\"fake.example.test too busy" 1
expect "$o" "^warn tls: busy target=pop3://127.0.0.1:$p_pbusy phase=greeting reply=\"-ERR \[SYS/TEMP\] too busy\"" 1
expect "$o" "^crit tls: handshake-failed target=smtp://127.0.0.1:$p_close reason=\"connection closed after STARTTLS\"" 1
expect "$o" "^crit tls: dialogue-failed target=smtp://127.0.0.1:$p_long phase=ehlo reason=line-too-long" 1
expect "$o" "^crit tls: dialogue-failed target=smtp://127.0.0.1:$p_inject phase=starttls reason=data-after-starttls" 1
expect "$o" "^crit tls: starttls-missing target=smtp://127.0.0.1:$p_plain\$" 1
expect "$o" "^crit tls: starttls-missing target=pop3://127.0.0.1:$p_pplain\$" 1
expect "$o" "^crit tls: auth-before-tls target=submission://127.0.0.1:$p_auth\$" 1
expect "$o" "^warn tls: protocol-old target=smtps://127.0.0.1:$p_old version=TLSv1\$" 1
expect "$o" "^info tls: ok target=smtp://127.0.0.1:$p_good version=TLSv1.3 cipher=[A-Z0-9_-]+ subject=\"CN=mx1.example.test\" issuer=\"CN=maintd test CA\" days=36[45]\$" 1
expect "$o" "^crit tls: not-listening target=smtp://127.0.0.1:$p_full reason=timeout\$" 1
# implicit TLS against a plaintext server: OpenSSL's own words
expect "$o" "^crit tls: handshake-failed target=smtps://127.0.0.1:$p_plain reason=\"(wrong version number|packet length too long|record layer failure)\"\$" 1
expect "$o" "^crit tls: dialogue-failed target=pop3://127.0.0.1:$p_hangup phase=greeting reason=closed\$" 1
expect "$o" "^warn tls: busy target=smtp://127.0.0.1:$p_tarpit phase=ehlo reason=timeout\$" 1
expect "$o" "^info tls: ok " 1
[ "$rc" = 2 ] || fail "exit status $rc, expected 2 (crit findings)"
expect "$o" "^info sweep: done .* checks_failed=1 .*" 1

# busy means unknown: the run clears nothing and -1 says "could not check"
tls_run "$T/out1b" MAINTD_TLS_DANE=0 MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_busy smtp://127.0.0.1:$p_good"
[ "$rc" = 3 ] || { cat "$T/out1b"; fail "exit status $rc, expected 3 (busy target)"; }

# a clean run: exit 0, nothing but ok
tls_run "$T/out2" MAINTD_TLS_DANE=0 MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_good submission://127.0.0.1:$p_good/mx1.example.test"
check_grammar "$T/out2"
expect "$T/out2" "^info tls: ok target=submission://127.0.0.1:$p_good/mx1.example.test version=" 1
[ "$rc" = 0 ] || { cat "$T/out2"; fail "exit status $rc on a clean run"; }

# concurrency: four services each greeting after 3 s take about 3 s, not 12
tls_run "$T/out3" MAINTD_TLS_DANE=0 MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_slow1
    smtp://127.0.0.1:$p_slow2 smtp://127.0.0.1:$p_slow3 smtp://127.0.0.1:$p_slow4"
expect "$T/out3" "^info tls: ok " 4
ms=$(sed -n 's/^info sweep: done .* ms=\([0-9]*\) .*/\1/p' "$T/out3")
[ "$ms" -ge 3000 ] && [ "$ms" -lt 6000 ] || fail "4 targets of 3 s each took $ms ms"
pass "4 slow targets concurrently in $ms ms"

# the random start offset spreads the probes over MAINTD_TLS_SPREAD seconds
tls_run "$T/out4" MAINTD_TLS_DANE=0 MAINTD_TLS_SPREAD=2 MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_good"
ms=$(sed -n 's/^info sweep: done .* ms=\([0-9]*\) .*/\1/p' "$T/out4")
[ "$ms" -lt 2600 ] || fail "spread 2 s took $ms ms"
expect "$T/out4" "^info tls: ok " 1

# bad configuration is fatal, exit 111
tls_run "$T/out5" MAINTD_TLS_TARGETS="imap://127.0.0.1:143"
[ "$rc" = 111 ] || fail "bad target: exit $rc"
expect "$T/out5" '^fatal maintd: bad-config var=MAINTD_TLS_TARGETS value=imap://127.0.0.1:143 reason=unknown-protocol$' 1

# the check's time limit cancels the probes: nothing more from them
tls_run "$T/out6" MAINTD_TLS_DANE=0 MAINTD_TLS_TIMEOUT=30 MAINTD_TIMEOUT_TLS=2 \
    MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_silent pop3://127.0.0.1:$p_silent smtp://127.0.0.1:$p_good"
expect "$T/out6" "^warn tls: timeout limit=2\$" 1
expect "$T/out6" "no-banner" 0
[ "$rc" = 3 ] || fail "exit $rc after the time limit, expected 3"

# SIGTERM while probes wait: prompt exit 0, nothing leaked (ASan builds check)
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_TLS_SPREAD=0 MAINTD_TLS_DANE=0 \
    MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_silent smtp://127.0.0.1:$p_tarpit" \
    "$MAINTD" -C tls > "$T/out7" 2> "$T/out7.err" &
pid=$!
at_exit "kill $pid"
wait_for "$T/out7" "sweep: start" 10 || fail "daemon did not start a sweep"
sleep 1
kill -TERM $pid
st=0
wait $pid || st=$?
[ "$st" = 0 ] || { cat "$T/out7" "$T/out7.err"; fail "exit $st after SIGTERM"; }
expect "$T/out7" "^info maintd: exiting signal=TERM\$" 1
[ ! -s "$T/out7.err" ] || { cat "$T/out7.err"; fail "stderr output"; }
