/* sendlog: the parser and join on the real qmail-send logs (notqmail 1.08 and
 * s/qmail 3.3.10 fixtures), partial lines, caps, TAI64N, the state codec, and
 * the reader in a temporary directory: restart, rotation, truncation, links. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safefile.h"
#include "sendlog.h"
#include "sendlog_read.h"

#define TAI0 0x400000000000000aULL	/* TAI64 of the Unix epoch, as daemontools has it */
#define SORRY "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)"

static char *
slurp(const char *name, size_t *len)
{
	char path[4096];
	const char *dir = getenv("FIXTURES");
	FILE *f;
	char *buf;
	long n;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_true(n > 0);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct dump {
	char buf[65536];
	size_t n;
};

static int
dump_one(void *arg, const char *domain, const char *text, time_t when)
{
	struct dump *d = arg;

	d->n += (size_t)snprintf(d->buf + d->n, sizeof(d->buf) - d->n, "%s %lld %s\n", domain,
	    (long long)when, text);
	assert_true(d->n < sizeof(d->buf));
	return 0;
}

/* Every domain's last deferral, oldest first, as text. */
static void
dump(const struct sendlog *sl, struct dump *d)
{
	d->n = 0;
	d->buf[0] = 0;
	sendlog_each(sl, dump_one, d);
}

static void
feed(struct sendlog *sl, const char *s)
{
	sendlog_feed(sl, s, strlen(s));
}

static void
want(const struct sendlog *sl, const char *domain, const char *text, long long when)
{
	time_t w = 0;
	const char *t = sendlog_last_deferral(sl, domain, &w);

	if (!t)
		fail_msg("no deferral for %s", domain);
	assert_string_equal(t, text);
	assert_int_equal((long long)w, when);
}

static void
test_tai64n(void **state)
{
	long long s;
	long ns;

	(void)state;
	/* written by Debian's multilog t at Unix 1795997717 (date +%s beside it) */
	assert_int_equal(sendlog_tai64n("@400000006b0cc01f2f074c8c", 25, &s, &ns), 0);
	assert_int_equal(s, 1795997717);
	assert_int_equal(ns, 789007500);
	/* tai64nlocal (TZ=UTC) says 2025-11-25 18:22:34.169552957 */
	assert_int_equal(sendlog_tai64n("@400000006925F3F40a1b2c3d x", 27, &s, &ns), 0);
	assert_int_equal(s, 1764094954);
	assert_int_equal(ns, 169552957);
	assert_int_equal(sendlog_tai64n("@400000000000000a00000000", 25, &s, &ns), 0);
	assert_int_equal(s, 0);
	assert_int_equal(ns, 0);
	/* before the Unix epoch, bad nanoseconds, not hex, short, no '@' */
	assert_int_equal(sendlog_tai64n("@400000000000000900000000", 25, &s, &ns), -1);
	assert_int_equal(sendlog_tai64n("@3fffffffffffffff00000000", 25, &s, &ns), -1);
	assert_int_equal(sendlog_tai64n("@400000006b0cc01f3b9aca00", 25, &s, &ns), -1);
	assert_int_equal(sendlog_tai64n("@400000006b0cc01f3b9ac9ff", 25, &s, &ns), 0);
	assert_int_equal(sendlog_tai64n("@400000006b0cc01g2f074c8c", 25, &s, &ns), -1);
	assert_int_equal(sendlog_tai64n("@400000006b0cc01f2f074c8c", 24, &s, &ns), -1);
	assert_int_equal(sendlog_tai64n("400000006b0cc01f2f074c8c ", 25, &s, &ns), -1);
	assert_int_equal(sendlog_tai64n("@7fffffffffffffff00000000", 25, &s, &ns), 0);
	assert_int_equal(s, 0x3fffffffffffffffLL - 10);
	assert_int_equal(sendlog_tai64n("@ffffffffffffffff00000000", 25, &s, &ns), -1);
}

static void
test_decode(void **state)
{
	char out[SENDLOG_TEXT + 1];
	const char *raw = "127.0.0.1_does_not_like_recipient./Remote_host_said:_451_4.3.0_"
	    "try_again_later_(sink)/Giving_up_on_127.0.0.1./";

	(void)state;
	sendlog_decode(raw, strlen(raw), out, sizeof(out));
	assert_string_equal(out, "127.0.0.1 does not like recipient./Remote host said: 451 4.3.0 "
	    "try again later (sink)/Giving up on 127.0.0.1.");
	assert_int_equal(sendlog_decode("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(sendlog_decode("/", 1, out, sizeof(out)), 0);
	assert_int_equal(sendlog_decode("a//", 3, out, sizeof(out)), 2);
	assert_string_equal(out, "a/");
	assert_int_equal(sendlog_decode("a\tb\x80\x7f", 5, out, sizeof(out)), 5);
	assert_string_equal(out, "a?b??");
	assert_int_equal(sendlog_decode("abcdef", 6, out, 4), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(sendlog_decode("abc", 3, out, 0), 0);
}

/* notqmail 1.08: 152 remote deliveries; the results as an independent count
 * (grep) of the fixture gives: 136 timeouts/refusals and 6 451s deferred, 5
 * 550s failed, 5 accepted; 32 results belong to local deliveries. */
static void
check_notqmail(const struct sendlog *sl)
{
	const struct sendlog_stats *st = sendlog_stats(sl);

	assert_int_equal(st->lines, 863);
	assert_int_equal(st->starts, 152);
	assert_int_equal(st->deferrals, 142);
	assert_int_equal(st->failures, 5);
	assert_int_equal(st->successes, 5);
	assert_int_equal(st->unmatched, 32);
	assert_int_equal(st->evicted_open, 0);
	assert_int_equal(st->evicted_domains, 0);
	assert_int_equal(st->long_lines, 0);
	assert_int_equal(sendlog_open_count(sl), 0);
	assert_int_equal(sendlog_domain_count(sl), 7);
	want(sl, "drop-a.test", SORRY, 1795617381);
	want(sl, "drop-b.test", SORRY, 1795617381);
	want(sl, "drop-c.test", SORRY, 1795617381);
	want(sl, "drop-d.test", SORRY, 1795617247);
	want(sl, "drop-e.test", SORRY, 1795617381);
	want(sl, "refused.test", SORRY, 1795617376);
	want(sl, "TempFail.TEST", "127.0.0.1 does not like recipient./Remote host said: 451 4.3.0 "
	    "try again later (sink)/Giving up on 127.0.0.1.", 1795617376);
	/* accepted or failed, never deferred; local */
	assert_null(sendlog_last_deferral(sl, "sink.test", NULL));
	assert_null(sendlog_last_deferral(sl, "permfail.test", NULL));
	assert_null(sendlog_last_deferral(sl, "example.test", NULL));
	assert_null(sendlog_last_deferral(sl, "localhost", NULL));
	assert_null(sendlog_last_deferral(sl, "", NULL));
}

static void
test_notqmail(void **state)
{
	size_t len;
	char *log = slurp("queue-small-processed.qmail-send.log", &len);
	struct sendlog *sl = sendlog_new(0, 0);

	(void)state;
	assert_non_null(sl);
	sendlog_feed(sl, log, len);
	check_notqmail(sl);
	sendlog_free(sl);
	free(log);
}

/* s/qmail 3.3.10: 227 remote deliveries, 198 deferred (190 no connection, 8
 * 451s), 23 failed (15 bare LF, 8 550s), 6 accepted; IPv6 domains too. */
static void
test_sqmail(void **state)
{
	size_t len;
	char *log = slurp("sqmail/qmail-send.log", &len);
	struct sendlog *sl = sendlog_new(0, 0);
	const struct sendlog_stats *st = sendlog_stats(sl);
	static const char *const sorry[] = { "drop-a.test", "drop-b.test", "drop-c.test",
		"drop-e.test", "localhost.example.test", "refused.test", "v6mapped.test",
		"v6refused.test" };
	size_t i;

	(void)state;
	sendlog_feed(sl, log, len);
	assert_int_equal(st->lines, 1388);
	assert_int_equal(st->starts, 227);
	assert_int_equal(st->deferrals, 198);
	assert_int_equal(st->failures, 23);
	assert_int_equal(st->successes, 6);
	assert_int_equal(st->unmatched, 59);
	assert_int_equal(st->exits, 1);
	assert_int_equal(sendlog_open_count(sl), 0);
	assert_int_equal(sendlog_domain_count(sl), 13);
	for (i = 0; i < sizeof(sorry) / sizeof(*sorry); i++)
		want(sl, sorry[i], SORRY, 1795992316);
	want(sl, "drop-d.test", SORRY, 1795992213);
	want(sl, "v6drop-a.test", SORRY, 1795992321);
	want(sl, "v6drop-b.test", SORRY, 1795992321);
	want(sl, "v6drop-c.test", SORRY, 1795992321);
	want(sl, "tempfail.test", "127.0.0.1 does not like recipient./Remote host said: 451 4.3.0 "
	    "try again later (test sink)/Giving up on 127.0.0.1.", 1795992316);
	sendlog_free(sl);
	free(log);
}

/* The same log fed in pieces split anywhere gives the same state. */
static void
test_partial(void **state)
{
	const char *const files[] = { "queue-small-processed.qmail-send.log",
		"sqmail/qmail-send.log" };
	size_t len, i, off, n, f;
	char *log, *a, *b;
	struct sendlog *whole, *sl;
	struct sendlog_pos pos = { 1, 2, 3, 0, 0 };
	unsigned seed = 1;

	(void)state;
	for (f = 0; f < 2; f++) {
		log = slurp(files[f], &len);
		whole = sendlog_new(0, 0);
		sendlog_feed(whole, log, len);
		sendlog_state_format(whole, &pos, &a);
		assert_non_null(a);
		for (i = 0; i < 4; i++) {
			sl = sendlog_new(0, 0);
			for (off = 0; off < len; off += n) {
				n = i == 0 ? 1 : i == 1 ? 7 : (seed = seed * 1103515245 + 12345) % 300;
				if (n > len - off)
					n = len - off;
				sendlog_feed(sl, log + off, n);
			}
			feed(sl, "");
			assert_int_equal(sendlog_pending(sl), 0);
			sendlog_state_format(sl, &pos, &b);
			assert_string_equal(a, b);
			assert_int_equal(sendlog_stats(sl)->lines, sendlog_stats(whole)->lines);
			free(b);
			sendlog_free(sl);
		}
		free(a);
		sendlog_free(whole);
		free(log);
	}
	/* a line held across feeds, then dropped at the end of a file */
	sl = sendlog_new(0, 0);
	feed(sl, "1 starting delivery 1: msg 2 to remote a@x.test\n1 delivery 1: defer");
	assert_int_equal(sendlog_pending(sl), 19);
	feed(sl, "ral: a_b/\n");
	assert_int_equal(sendlog_pending(sl), 0);
	want(sl, "x.test", "a b", 1);
	feed(sl, "2 starting delivery 2: msg 2 to remote a@y.test\n2 delivery 2: defer");
	sendlog_feed_end(sl);
	feed(sl, "ral: c/\n");
	assert_null(sendlog_last_deferral(sl, "y.test", NULL));
	assert_int_equal(sendlog_open_count(sl), 1);
	sendlog_free(sl);
}

/* The prefixes: multilog's TAI64N, accustamp's seconds, none. */
static void
test_prefixes(void **state)
{
	struct sendlog *sl = sendlog_new(0, 0);
	const char *log =
	    "@400000006b0cc01f2f074c8c starting delivery 7: msg 99 to remote u@t.test\n"
	    "@400000006b0cc0202f074c8c delivery 7: deferral: Connected_to_192.0.2.1_but_"
	    "greeting_failed./Remote_host_said:_421_busy/\n"
	    "starting delivery 8: msg 99 to remote V@Bare.Test\n"
	    "delivery 8: deferral: x/\n"
	    "1795997700.5 starting delivery 9: msg 99 to remote u@acc.test\n"
	    "1795997701 delivery 9: deferral: y/\n"
	    /* not timestamps: ignored */
	    "@40000000zz0cc01f2f074c8c starting delivery 10: msg 99 to remote u@bad.test\n"
	    "@400000006b0cc01f2f074c8cstarting delivery 11: msg 99 to remote u@bad.test\n"
	    "12x starting delivery 12: msg 99 to remote u@bad.test\n"
	    "12. starting delivery 13: msg 99 to remote u@bad.test\n"
	    "12.5starting delivery 14: msg 99 to remote u@bad.test\n";

	(void)state;
	sendlog_clock(sl, 42);
	sendlog_feed(sl, log, strlen(log));
	want(sl, "t.test", "Connected to 192.0.2.1 but greeting failed./Remote host said: 421 busy",
	    1795997718);
	want(sl, "bare.test", "x", 42);
	want(sl, "acc.test", "y", 1795997701);
	assert_int_equal(sendlog_stats(sl)->starts, 3);
	assert_int_equal(sendlog_open_count(sl), 0);
	sendlog_free(sl);
}

/* The notqmail fixture relabelled with multilog's TAI64N: the same joins. */
static void
test_fixture_tai64n(void **state)
{
	size_t len, i, n = 0;
	char *log = slurp("queue-small-processed.qmail-send.log", &len), *out, *p, *nl;
	struct sendlog *sl = sendlog_new(0, 0);
	unsigned long long sec, usec;

	(void)state;
	assert_non_null(out = malloc(len * 2));
	for (p = log; (nl = strchr(p, '\n')); p = nl + 1) {
		assert_int_equal(sscanf(p, "%llu.%llu", &sec, &usec), 2);
		i = strcspn(p, " ");
		n += (size_t)sprintf(out + n, "@%016llx%08llx%.*s\n", 0x4000000000000000ULL + 10 + sec,
		    usec * 1000, (int)(nl - p - i), p + i);
	}
	sendlog_feed(sl, out, n);
	check_notqmail(sl);
	sendlog_free(sl);
	free(out);
	free(log);
}

static void
test_caps(void **state)
{
	struct sendlog *sl = sendlog_new(2, 2);
	const struct sendlog_stats *st = sendlog_stats(sl);
	const char *log =
	    "1 starting delivery 1: msg 1 to remote a@one.test\n"
	    "2 starting delivery 2: msg 1 to remote a@two.test\n"
	    "3 starting delivery 3: msg 1 to remote a@three.test\n"	/* evicts 1 */
	    "4 delivery 1: deferral: lost/\n"
	    "5 delivery 2: deferral: two/\n"
	    "6 delivery 3: deferral: three/\n"
	    "7 starting delivery 4: msg 1 to remote a@two.test\n"
	    "8 delivery 4: deferral: two_again/\n"	/* two is now the newest */
	    "9 starting delivery 5: msg 1 to remote a@four.test\n"
	    "10 delivery 5: deferral: four/\n";	/* evicts three */

	(void)state;
	sendlog_feed(sl, log, strlen(log));
	assert_int_equal(st->evicted_open, 1);
	assert_int_equal(st->unmatched, 1);
	assert_int_equal(st->deferrals, 4);
	assert_int_equal(st->evicted_domains, 1);
	assert_int_equal(sendlog_domain_count(sl), 2);
	assert_null(sendlog_last_deferral(sl, "one.test", NULL));
	assert_null(sendlog_last_deferral(sl, "three.test", NULL));
	want(sl, "two.test", "two again", 8);
	want(sl, "four.test", "four", 10);
	sendlog_free(sl);
}

/* A fixed footprint under a flood of distinct deliveries and domains. */
static void
test_flood(void **state)
{
	struct sendlog *sl = sendlog_new(0, 0);
	char line[256];
	unsigned i;
	int n;

	(void)state;
	for (i = 0; i < 50000; i++) {
		n = snprintf(line, sizeof(line), "starting delivery %u: msg 1 to remote a@d%u.test\n",
		    i, i);
		sendlog_feed(sl, line, (size_t)n);
		if (i % 3 == 0) {
			n = snprintf(line, sizeof(line), "delivery %u: deferral: no/\n", i);
			sendlog_feed(sl, line, (size_t)n);
		}
	}
	assert_int_equal(sendlog_open_count(sl), SENDLOG_MAX_OPEN);
	assert_int_equal(sendlog_domain_count(sl), SENDLOG_MAX_DOMAINS);
	assert_int_equal(sendlog_stats(sl)->evicted_domains, 16667 - SENDLOG_MAX_DOMAINS);
	assert_int_equal(sendlog_stats(sl)->evicted_open, 50000 - 16667 - SENDLOG_MAX_OPEN);
	want(sl, "d49998.test", "no", 0);
	sendlog_free(sl);
}

static void
test_odd_lines(void **state)
{
	struct sendlog *sl = sendlog_new(0, 0);
	const struct sendlog_stats *st = sendlog_stats(sl);
	char big[4096];
	int n;

	(void)state;
	/* a start whose line is longer than SENDLOG_LINE: its domain is unknown */
	n = snprintf(big, sizeof(big), "starting delivery 1: msg 1 to remote %0*d@long.test\n",
	    1100, 0);
	sendlog_feed(sl, big, (size_t)n);
	assert_int_equal(st->long_lines, 1);
	assert_int_equal(sendlog_open_count(sl), 0);
	/* a long deferral: its text is cut at SENDLOG_TEXT */
	feed(sl, "starting delivery 2: msg 1 to remote a@b@Long.Test\n");
	memset(big, 'x', sizeof(big));
	memcpy(big, "delivery 2: deferral: ", 22);
	big[3000] = '\n';
	sendlog_feed(sl, big, 3001);
	assert_int_equal(strlen(sendlog_last_deferral(sl, "long.test", NULL)), SENDLOG_TEXT);
	/* the same number again (qmail-send restarted): the newer start wins */
	feed(sl, "starting delivery 3: msg 1 to remote a@old.test\n"
	    "starting delivery 3: msg 1 to local a@localhost\n"
	    "delivery 3: deferral: x/\n");
	assert_null(sendlog_last_deferral(sl, "old.test", NULL));
	/* status: exiting forgets what is open */
	feed(sl, "starting delivery 4: msg 1 to remote a@gone.test\nstatus: exiting\n"
	    "delivery 4: deferral: x/\n");
	assert_int_equal(st->exits, 1);
	assert_null(sendlog_last_deferral(sl, "gone.test", NULL));
	/* report mangled */
	feed(sl, "starting delivery 5: msg 1 to remote a@m.test\n"
	    "delivery 5: report mangled, will defer\n");
	want(sl, "m.test", "report mangled, will defer", 0);
	/* no domain, bad numbers, unsafe bytes in an address */
	feed(sl, "starting delivery 6: msg 1 to remote nobody\n"
	    "starting delivery 7: msg 1 to remote a@\n"
	    "starting delivery 99999999999999999999: msg 1 to remote a@n.test\n"
	    "starting delivery 8: msg 1 to remote a@x_y.test\n"
	    "delivery 8: deferral: z/\n");
	assert_int_equal(sendlog_open_count(sl), 0);
	want(sl, "x y.test", "z", 0);	/* the query goes through logsafe() too */
	want(sl, "x%y.test", "z", 0);
	want(sl, "x_Y.test", "z", 0);
	sendlog_free(sl);
}

static void
test_state(void **state)
{
	size_t len;
	char *log = slurp("sqmail/qmail-send.log", &len), *a, *b;
	struct sendlog *sl = sendlog_new(0, 0), *sl2 = sendlog_new(0, 0);
	struct sendlog_pos pos = { 2049, 123456, 789, 64, 0xfedcba9876543210ULL }, p2;
	size_t n, m, cut;
	static const char *const bad[] = {
		"",
		"sendlog 1\npos 1 2 3 4 5 6\n",
		"sendlog 2\npos 1 2 3 4 5 6\nend\n",
		"sendlog 1\npos 1 2 3 65 5 6\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nend\nx",
		"sendlog 1\npos 1 2 3 4 5 6\nopen 1 2 A.test\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nopen 1 2 a.test x\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nlast 2 a.test\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nlast 2 a.test a b\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nlast -2 a.test ab\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nfoo\nend\n",
		"sendlog 1\npos 1 2 3 4 18446744073709551616 6\nend\n",
		"sendlog 1\npos 01 2 3 4 5 6\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nopen 01 2 a.test\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nopen 1 2 a.test\nopen 1 3 b.test\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nlast 2 a.test x\nlast 3 a.test y\nend\n",
		"sendlog 1\npos 1 2 3 4 5 6\nlast 2 a.test x\nopen 1 2 b.test\nend\n",
		"sendlog 1\npos 1 2 3 4 5\nend\n",
		"sendlog 1\npos 1 2 3 4 5 06\nend\n",
		"sendlog 1\npos 1 2 3 4 5 -6\nend\n",
	};

	(void)state;
	/* a delivery left open, so open records are written too */
	sendlog_feed(sl, log, len);
	feed(sl, "starting delivery 5000: msg 1 to remote a@open.test\n");
	n = sendlog_state_format(sl, &pos, &a);
	assert_true(n > 0);
	assert_non_null(strstr(a, "\nopen 5000 0 open.test\n"));
	assert_non_null(strstr(a, "\nlast 1795992316 tempfail.test 127.0.0.1_does_not_like_"));
	assert_int_equal(sendlog_state_parse(sl2, a, n, &p2), 0);
	assert_memory_equal(&p2.dev, &pos.dev, sizeof(pos.dev));
	assert_true(p2.ino == pos.ino && p2.off == pos.off && p2.fplen == pos.fplen && p2.fp == pos.fp);
	assert_int_equal(sendlog_stamp(sl2), 1795992347);	/* the log's last line */
	m = sendlog_state_format(sl2, &p2, &b);
	assert_int_equal(m, n);
	assert_memory_equal(a, b, n);
	free(b);
	assert_int_equal(sendlog_open_count(sl2), 1);
	want(sl2, "tempfail.test", "127.0.0.1 does not like recipient./Remote host said: 451 "
	    "4.3.0 try again later (test sink)/Giving up on 127.0.0.1.", 1795992316);
	/* an empty text survives */
	feed(sl2, "delivery 5000: deferral: \n");
	m = sendlog_state_format(sl2, &p2, &b);
	assert_non_null(strstr(b, "\nlast 0 open.test \n"));
	assert_int_equal(sendlog_state_parse(sl, b, m, &p2), 0);
	want(sl, "open.test", "", 0);
	free(b);
	/* cut anywhere: corrupt, and nothing is kept */
	for (cut = 0; cut < n; cut += 97) {
		assert_int_equal(sendlog_state_parse(sl2, a, cut, &p2), -1);
		assert_int_equal(sendlog_domain_count(sl2), 0);
		assert_int_equal(sendlog_open_count(sl2), 0);
		assert_int_equal(p2.ino, 0);
	}
	for (cut = 0; cut < sizeof(bad) / sizeof(*bad); cut++)
		if (sendlog_state_parse(sl2, bad[cut], strlen(bad[cut]), &p2) != -1)
			fail_msg("accepted: %s", bad[cut]);
	assert_int_equal(sendlog_state_parse(sl2, "sendlog 1\npos 1 2 3 4 5 6\nend\n", 30, &p2), 0);
	assert_int_equal(sendlog_stamp(sl2), 6);
	free(a);
	sendlog_free(sl);
	sendlog_free(sl2);
	free(log);
}

/* ---- the reader */

struct dir {
	char path[64];
	char log[128];		/* the log directory, as multilog's main/ */
	char cur[160];		/* its current */
	int sfd;		/* the state directory */
};

static void
dir_make(struct dir *d)
{
	char state[128];

	snprintf(d->path, sizeof(d->path), "/tmp/test_sendlog.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->log, sizeof(d->log), "%s/main", d->path);
	assert_int_equal(mkdir(d->log, 0755), 0);
	snprintf(d->cur, sizeof(d->cur), "%s/current", d->log);
	snprintf(state, sizeof(state), "%s/state", d->path);
	assert_true((d->sfd = safe_state_dir(state)) >= 0);
}

static void
dir_remove(struct dir *d)
{
	char cmd[128];

	close(d->sfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d->path);
	assert_int_equal(system(cmd), 0);
}

static void
append(const char *path, const char *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

/* Reads until the end; the flags of every call or'ed together. */
static void
read_all(struct sendlog *sl, struct dir *d, size_t max, struct sendlog_rd *all)
{
	struct sendlog_rd rd;
	int r, calls = 0;

	memset(all, 0, sizeof(*all));
	do {
		r = sendlog_read(sl, d->sfd, d->cur, max, 1000, &rd);
		if (r < 0)
			fail_msg("sendlog_read: %s: %s", rd.what, strerror(errno));
		all->bytes += rd.bytes;
		all->rotated |= rd.rotated;
		all->lost |= rd.lost;
		all->restarted |= rd.restarted;
		all->bad_state |= rd.bad_state;
		assert_true(rd.bytes <= (max ? max : SENDLOG_READ_MAX));
		assert_true(++calls < 100000);
	} while (r == 1);
}

/* Where to cut the fixture: inside a line, with deliveries started before
 * the cut whose deferrals come after it. */
static size_t
cut_at(const char *log, size_t len, double frac)
{
	size_t at = (size_t)((double)len * frac);

	while (at < len && log[at] != '\n')
		at++;
	return at - 10;
}

static void
test_read_restart(void **state)
{
	size_t len, cut, start, i;
	char *log = slurp("queue-small-processed.qmail-send.log", &len);
	struct sendlog *whole = sendlog_new(0, 0), *a, *b, *alone;
	struct sendlog_rd rd;
	struct dump dw, db;
	struct stat st;
	struct dir d;
	unsigned long long da;
	const size_t max[] = { 0, 1000, 1 };

	(void)state;
	sendlog_feed(whole, log, len);
	dump(whole, &dw);
	cut = cut_at(log, len, 0.5);
	start = (const char *)memrchr(log, '\n', cut) + 1 - log;
	for (i = 0; i < sizeof(max) / sizeof(*max); i++) {
		dir_make(&d);
		append(d.cur, log, cut);
		a = sendlog_new(0, 0);
		read_all(a, &d, max[i], &rd);
		assert_int_equal(rd.bytes, cut);
		assert_int_equal(sendlog_pending(a), cut - start);	/* an unfinished line */
		assert_true(sendlog_open_count(a) > 0);	/* deferrals to come for them */
		da = sendlog_stats(a)->deferrals;
		sendlog_free(a);	/* the daemon restarts */
		assert_int_equal(fstatat(d.sfd, SENDLOG_CURSOR, &st, 0), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		append(d.cur, log + cut, len - cut);
		b = sendlog_new(0, 0);
		read_all(b, &d, max[i], &rd);
		assert_false(rd.bad_state || rd.lost || rd.restarted || rd.rotated);
		assert_int_equal(rd.bytes, len - start);	/* from the unfinished line */
		/* neither repeated nor missed: the counts add up, the result is the same */
		assert_int_equal(da + sendlog_stats(b)->deferrals, 142);
		dump(b, &db);
		assert_string_equal(db.buf, dw.buf);
		/* and it joined deferrals of deliveries started before the restart */
		alone = sendlog_new(0, 0);
		sendlog_feed(alone, log + start, len - start);
		assert_true(sendlog_stats(alone)->deferrals < sendlog_stats(b)->deferrals);
		sendlog_free(alone);
		/* at the end, another call reads nothing and keeps it all */
		assert_int_equal(sendlog_read(b, d.sfd, d.cur, 0, 1000, &rd), 0);
		assert_int_equal(rd.bytes, 0);
		dump(b, &db);
		assert_string_equal(db.buf, dw.buf);
		sendlog_free(b);
		dir_remove(&d);
	}
	sendlog_free(whole);
	free(log);
}

static void
test_read_rotation(void **state)
{
	size_t len, c1, c2, c3;
	char *log = slurp("sqmail/qmail-send.log", &len), old[256];
	unsigned long long stamp;
	struct sendlog *whole = sendlog_new(0, 0), *a, *b;
	struct sendlog_rd rd;
	struct dump dw, db;
	struct dir d;
	unsigned long long da;
	int restart;

	(void)state;
	sendlog_feed(whole, log, len);
	dump(whole, &dw);
	c1 = cut_at(log, len, 0.3);
	c2 = cut_at(log, len, 0.7) + 11;	/* multilog rotates at a line's end */
	c3 = cut_at(log, len, 0.5) + 11;
	for (restart = 0; restart < 2; restart++) {
		dir_make(&d);
		append(d.cur, log, c1);
		a = sendlog_new(0, 0);
		read_all(a, &d, 4096, &rd);
		da = sendlog_stats(a)->deferrals;
		/* more lines, then multilog's rotation: current renamed, a new current */
		append(d.cur, log + c1, c2 - c1);
		snprintf(old, sizeof(old), "%s/@400000006b0cc01f2f074c8c.s", d.log);
		assert_int_equal(rename(d.cur, old), 0);
		append(d.cur, log + c2, len - c2);
		if (restart) {
			sendlog_free(a);
			b = sendlog_new(0, 0);
		} else {
			b = a;
			da = 0;
		}
		read_all(b, &d, 4096, &rd);
		assert_true(rd.rotated);
		assert_false(rd.lost || rd.restarted || rd.bad_state);
		assert_int_equal(da + sendlog_stats(b)->deferrals, 198);
		dump(b, &db);
		assert_string_equal(db.buf, dw.buf);
		sendlog_free(b);
		dir_remove(&d);
	}
	/* two rotations between reads (a busy host, a small s): both renamed
	 * files in their order, then current; a restart in the middle of them */
	for (restart = 0; restart < 2; restart++) {
		dir_make(&d);
		append(d.cur, log, c1);
		a = sendlog_new(0, 0);
		read_all(a, &d, 0, &rd);
		da = sendlog_stats(a)->deferrals;
		append(d.cur, log + c1, c3 - c1);
		snprintf(old, sizeof(old), "%s/@400000006b0cc01f2f074c8c.s", d.log);
		assert_int_equal(rename(d.cur, old), 0);
		append(d.cur, log + c3, c2 - c3);
		snprintf(old, sizeof(old), "%s/@400000006b0cc0200a000000.s", d.log);
		assert_int_equal(rename(d.cur, old), 0);
		/* older files of multilog's, and ones that are not its */
		snprintf(old, sizeof(old), "%s/@400000006b0cc0000a000000.s", d.log);
		append(old, log, 1000);
		snprintf(old, sizeof(old), "%s/@400000006b0cc0210a000000.x", d.log);
		append(old, log, 1000);
		snprintf(old, sizeof(old), "%s/state", d.log);
		append(old, log, 1000);
		append(d.cur, log + c2, len - c2);
		if (restart) {
			/* a few bytes into the first renamed file, then a restart */
			assert_int_equal(sendlog_read(a, d.sfd, d.cur, 100, 1000, &rd), 1);
			assert_int_equal(sendlog_read(a, d.sfd, d.cur, c3 - c1 - 50, 1000, &rd), 1);
			sendlog_free(a);
			a = sendlog_new(0, 0);	/* from the cursor saved after part 1 */
		} else
			da = 0;
		read_all(a, &d, restart ? 3000 : 0, &rd);
		assert_true(rd.rotated);
		assert_false(rd.lost || rd.restarted);
		assert_int_equal(da + sendlog_stats(a)->deferrals, 198);
		dump(a, &db);
		assert_string_equal(db.buf, dw.buf);
		sendlog_free(a);
		dir_remove(&d);
	}
	/* the rotated file is gone (multilog's n): lost, and current from 0 */
	dir_make(&d);
	append(d.cur, log, c1);
	a = sendlog_new(0, 0);
	read_all(a, &d, 0, &rd);
	da = sendlog_stats(a)->deferrals;
	append(d.cur, log + c1, c2 - c1);
	snprintf(old, sizeof(old), "%s/@400000006b0cc01f2f074c8c.s", d.log);
	assert_int_equal(rename(d.cur, old), 0);
	append(d.cur, log + c2, len - c2);
	assert_int_equal(unlink(old), 0);
	read_all(a, &d, 0, &rd);
	assert_true(rd.lost);
	assert_false(rd.rotated);
	assert_int_equal(rd.bytes, len - c2);
	assert_true(sendlog_stats(a)->deferrals < 198);
	sendlog_free(a);
	dir_remove(&d);
	/* gone, with files rotated after it: those rotated at or after the last
	 * line read (the fixture's clock: 1795992xxx) are read, older ones not */
	dir_make(&d);
	append(d.cur, log, c1);
	a = sendlog_new(0, 0);
	read_all(a, &d, 0, &rd);
	da = sendlog_stats(a)->deferrals;
	stamp = (unsigned long long)sendlog_stamp(a);
	assert_true(stamp > 1795992000ULL && stamp < 1795992400ULL);
	append(d.cur, log + c1, c3 - c1);
	snprintf(old, sizeof(old), "%s/@%016llx00000000.s", d.log, TAI0 + stamp + 1);
	assert_int_equal(rename(d.cur, old), 0);
	assert_int_equal(unlink(old), 0);	/* the one we read: gone */
	append(d.cur, log + c3, c2 - c3);
	snprintf(old, sizeof(old), "%s/@%016llx00000000.s", d.log, TAI0 + stamp + 2);
	assert_int_equal(rename(d.cur, old), 0);
	snprintf(old, sizeof(old), "%s/@%016llx00000000.s", d.log, TAI0 + stamp - 100);
	append(old, log, c2);	/* older than what was read: never again */
	append(d.cur, log + c2, len - c2);
	read_all(a, &d, 0, &rd);
	assert_true(rd.lost && rd.rotated);
	assert_int_equal(rd.bytes, len - c3);
	b = sendlog_new(0, 0);	/* the same bytes, without the lost ones */
	sendlog_feed(b, log, c1);
	sendlog_feed_end(b);
	sendlog_feed(b, log + c3, len - c3);
	assert_int_equal(sendlog_stats(a)->deferrals, sendlog_stats(b)->deferrals);
	assert_true(sendlog_stats(b)->deferrals < 198);
	dump(a, &dw);
	dump(b, &db);
	assert_string_equal(db.buf, dw.buf);
	sendlog_free(b);
	sendlog_free(a);
	dir_remove(&d);
	sendlog_free(whole);
	free(log);
}

static void
test_read_truncate(void **state)
{
	size_t len, c1;
	char *log = slurp("queue-small-processed.qmail-send.log", &len);
	struct sendlog *a = sendlog_new(0, 0), *b;
	struct sendlog_rd rd;
	struct dir d;
	int fd;

	(void)state;
	dir_make(&d);
	c1 = cut_at(log, len, 0.6) + 11;	/* a line's end */
	append(d.cur, log, len);
	read_all(a, &d, 0, &rd);
	assert_int_equal(sendlog_stats(a)->deferrals, 142);
	/* the same inode, shorter: read again from its start */
	assert_true((fd = open(d.cur, O_WRONLY | O_TRUNC)) >= 0);
	close(fd);
	append(d.cur, log, c1);
	read_all(a, &d, 0, &rd);
	assert_true(rd.restarted);
	assert_int_equal(rd.bytes, c1);
	/* a fresh struct from the saved cursor: nothing to read */
	b = sendlog_new(0, 0);
	read_all(b, &d, 0, &rd);
	assert_int_equal(rd.bytes, 0);
	assert_false(rd.restarted);
	/* the same inode and length, other first bytes: replaced, from 0 */
	assert_true((fd = open(d.cur, O_WRONLY | O_TRUNC)) >= 0);
	close(fd);
	append(d.cur, "x", 1);
	append(d.cur, log + 1, c1 - 1);
	read_all(b, &d, 0, &rd);
	assert_true(rd.restarted);
	assert_int_equal(rd.bytes, c1);
	sendlog_free(a);
	sendlog_free(b);
	dir_remove(&d);
	free(log);
}

/* The notqmail fixture through Debian's real multilog (t, s4096): its own
 * TAI64N labels, its own rotations (several between two reads, one more at
 * each start), read in between with restarts: every deferral once. */
static void
test_read_multilog(void **state)
{
	size_t len, n = 0, off, cut;
	char *log = slurp("queue-small-processed.qmail-send.log", &len), *bare, *p, *nl;
	char cmd[512];
	struct sendlog *sl;
	struct sendlog_rd all;
	unsigned long long deferrals = 0;
	int batch = 0, rotated = 0;
	struct dir d;
	FILE *ml;

	(void)state;
	if (access("/usr/bin/multilog", X_OK) < 0)
		fail_msg("multilog (daemontools, tests/deps/base.txt) is needed");
	assert_non_null(bare = malloc(len));
	for (p = log; (nl = strchr(p, '\n')); p = nl + 1) {
		off = strcspn(p, " ") + 1;	/* the fixture's own Unix time */
		memcpy(bare + n, p + off, (size_t)(nl + 1 - p) - off);
		n += (size_t)(nl + 1 - p) - off;
	}
	dir_make(&d);
	/* multilog started, nothing logged yet: the cursor is at current's start
	 * (a reader without a cursor reads only current, not older files) */
	snprintf(cmd, sizeof(cmd), "exec /usr/bin/multilog t s4096 n100 %s </dev/null", d.log);
	assert_int_equal(system(cmd), 0);
	sl = sendlog_new(0, 0);
	read_all(sl, &d, 0, &all);
	assert_int_equal(all.bytes, 0);
	for (off = 0; off < n; off = cut, batch++) {
		cut = off + 6000 < n ? off + 6000 : n;
		while (cut < n && bare[cut - 1] != '\n')
			cut++;
		snprintf(cmd, sizeof(cmd), "exec /usr/bin/multilog t s4096 n100 %s", d.log);
		assert_non_null(ml = popen(cmd, "w"));
		assert_int_equal(fwrite(bare + off, 1, cut - off, ml), cut - off);
		assert_int_equal(pclose(ml), 0);
		if (batch % 2 == 1) {	/* a restart every other batch */
			deferrals += sendlog_stats(sl)->deferrals;
			sendlog_free(sl);
			sl = sendlog_new(0, 0);
		}
		read_all(sl, &d, batch % 3 == 0 ? 2000 : 0, &all);
		assert_false(all.lost || all.restarted || all.bad_state);
		rotated |= all.rotated;
	}
	assert_true(batch >= 6);
	assert_true(rotated);
	deferrals += sendlog_stats(sl)->deferrals;
	assert_int_equal(deferrals, 142);
	assert_int_equal(sendlog_domain_count(sl), 7);
	assert_string_equal(sendlog_last_deferral(sl, "drop-a.test", NULL), SORRY);
	assert_string_equal(sendlog_last_deferral(sl, "tempfail.test", NULL),
	    "127.0.0.1 does not like recipient./Remote host said: 451 4.3.0 try again later "
	    "(sink)/Giving up on 127.0.0.1.");
	{
		time_t w;

		/* multilog's labels: now, not the fixture's 2026 times */
		assert_non_null(sendlog_last_deferral(sl, "drop-d.test", &w));
		assert_true(w > time(NULL) - 600 && w <= time(NULL) + 1);
	}
	sendlog_free(sl);
	dir_remove(&d);
	free(bare);
	free(log);
}

/* A link planted as current, a FIFO, a corrupt cursor, a missing log. */
static void
test_read_hostile(void **state)
{
	struct sendlog *sl = sendlog_new(0, 0);
	struct sendlog_rd rd;
	char secret[256];
	struct dir d;

	(void)state;
	dir_make(&d);
	assert_int_equal(sendlog_read(sl, d.sfd, d.cur, 0, 1, &rd), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(rd.what, "log-open");
	snprintf(secret, sizeof(secret), "%s/secret", d.path);
	append(secret, "1 starting delivery 1: msg 1 to remote a@leak.test\n", 51);
	assert_int_equal(strlen("1 starting delivery 1: msg 1 to remote a@leak.test\n"), 51);
	assert_int_equal(symlink(secret, d.cur), 0);
	assert_int_equal(sendlog_read(sl, d.sfd, d.cur, 0, 1, &rd), -1);
	assert_int_equal(errno, ELOOP);
	assert_string_equal(rd.what, "log-open");
	assert_int_equal(sendlog_open_count(sl), 0);
	assert_int_equal(unlink(d.cur), 0);
	assert_int_equal(mkfifo(d.cur, 0644), 0);
	assert_int_equal(sendlog_read(sl, d.sfd, d.cur, 0, 1, &rd), -1);	/* never blocks */
	assert_string_equal(rd.what, "log-type");
	assert_string_equal(rd.type, "fifo");
	assert_int_equal(unlink(d.cur), 0);
	assert_int_equal(mkdir(d.cur, 0755), 0);
	assert_int_equal(sendlog_read(sl, d.sfd, d.cur, 0, 1, &rd), -1);
	assert_string_equal(rd.what, "log-type");
	assert_int_equal(rmdir(d.cur), 0);
	append(d.cur, "1 starting delivery 1: msg 1 to remote a@b.test\n"
	    "2 delivery 1: deferral: x/\n", 75);
	assert_int_equal(strlen("1 starting delivery 1: msg 1 to remote a@b.test\n"
	    "2 delivery 1: deferral: x/\n"), 75);
	assert_int_equal(sendlog_read(sl, d.sfd, d.cur, 0, 1, &rd), 0);
	want(sl, "b.test", "x", 2);
	sendlog_free(sl);
	/* a corrupt cursor: said, ignored, replaced */
	assert_int_equal(safe_replace(d.sfd, SENDLOG_CURSOR, "garbage\n", 8, 0600), 0);
	sl = sendlog_new(0, 0);
	assert_int_equal(sendlog_read(sl, d.sfd, d.cur, 0, 1, &rd), 0);
	assert_true(rd.bad_state);
	assert_int_equal(rd.bytes, 75);
	want(sl, "b.test", "x", 2);
	sendlog_free(sl);
	sl = sendlog_new(0, 0);
	assert_int_equal(sendlog_read(sl, d.sfd, d.cur, 0, 1, &rd), 0);
	assert_false(rd.bad_state);
	assert_int_equal(rd.bytes, 0);
	want(sl, "b.test", "x", 2);
	/* no state directory: the struct is the only cursor */
	sendlog_free(sl);
	sl = sendlog_new(0, 0);
	assert_int_equal(sendlog_read(sl, -1, d.cur, 0, 1, &rd), 0);
	assert_int_equal(rd.bytes, 75);
	append(d.cur, "3 starting delivery 2: msg 1 to remote a@b.test\n", 48);
	append(d.cur, "4 delivery 2: deferral: y/\n", 27);
	assert_int_equal(sendlog_read(sl, -1, d.cur, 0, 1, &rd), 0);
	assert_int_equal(rd.bytes, 75);
	want(sl, "b.test", "y", 4);
	/* the cursor a link: not followed */
	assert_int_equal(unlinkat(d.sfd, SENDLOG_CURSOR, 0), 0);
	assert_int_equal(symlinkat(secret, d.sfd, SENDLOG_CURSOR), 0);
	sendlog_free(sl);
	sl = sendlog_new(0, 0);
	assert_int_equal(sendlog_read(sl, d.sfd, d.cur, 0, 1, &rd), -1);
	assert_int_equal(errno, ELOOP);
	assert_string_equal(rd.what, "state-read");
	sendlog_free(sl);
	dir_remove(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tai64n),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_notqmail),
		cmocka_unit_test(test_sqmail),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_fixture_tai64n),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_odd_lines),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_read_restart),
		cmocka_unit_test(test_read_rotation),
		cmocka_unit_test(test_read_truncate),
		cmocka_unit_test(test_read_multilog),
		cmocka_unit_test(test_read_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
