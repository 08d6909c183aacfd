/* resolv against a scripted UDP server on a loopback port in the same loop:
 * the first label of the query name says how it answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolv.h"
#include "tlsa.h"

struct fake {
	int fd;
	char servers[64];
	struct event_base *base;
	struct event *ev;
	unsigned got, done;
	enum resolv_status st[8];
	int ad[8];
	size_t alen[8];
	unsigned ids[64];	/* the query ids the server saw */
	unsigned nids;
};

static void
fake_on_query(evutil_socket_t fd, short what, void *arg)
{
	unsigned char b[1500];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	size_t qend, l;

	struct fake *f = arg;

	(void)what;
	if ((n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl)) < 17)
		return;
	if (f->nids < 64)
		f->ids[f->nids++] = (unsigned)b[0] << 8 | b[1];
	for (qend = 12; qend < (size_t)n && b[qend]; qend += b[qend] + 1u)
		;
	qend += 5;
	l = b[12];
	b[2] = 0x81;
	b[3] = 0x80;
	b[7] = 0;
	b[9] = b[11] = 0;	/* drop the OPT RR of the query */
	if (l == 6 && memcmp(b + 13, "silent", 6) == 0)
		return;
	if (l == 8 && memcmp(b + 13, "servfail", 8) == 0)
		b[3] |= 2;
	else if (l == 7 && memcmp(b + 13, "refused", 7) == 0)
		b[3] |= 5;
	else if (l == 2 && memcmp(b + 13, "nx", 2) == 0)
		b[3] |= 3;
	else if (l == 6 && memcmp(b + 13, "nodata", 6) == 0)
		;
	else {
		static const unsigned char rr[] = { 0xc0, 12, 0, 52, 0, 1, 0, 0, 1, 0, 0, 7,
		    3, 1, 1, 1, 2, 3, 4 };

		b[3] |= 0x20;
		b[7] = 1;
		memcpy(b + qend, rr, sizeof(rr));
		qend += sizeof(rr);
	}
	sendto(fd, b, qend, 0, (struct sockaddr *)&from, fl);
}

static void
on_answer(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct fake *f = arg;
	unsigned i = f->got++;

	(void)abuf;
	f->st[i] = st;
	f->ad[i] = ad;
	f->alen[i] = alen;
	if (++f->done == 6)
		event_base_loopbreak(f->base);
}

static void
fake_start(struct fake *f)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(f, 0, sizeof(*f));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((f->fd = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(f->servers, sizeof(f->servers), "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_non_null(f->base = event_base_new());
	f->ev = event_new(f->base, f->fd, EV_READ | EV_PERSIST, fake_on_query, f);
	event_add(f->ev, NULL);
}

static void
fake_stop(struct fake *f)
{
	event_free(f->ev);
	event_base_free(f->base);
	close(f->fd);
}

static void
statuses(void **state)
{
	static const char *const names[] = { "ok.example", "servfail.example",
	    "refused.example", "nx.example", "nodata.example", "silent.example" };
	static const enum resolv_status want[] = { RESOLV_OK, RESOLV_SERVFAIL,
	    RESOLV_REFUSED, RESOLV_NXDOMAIN, RESOLV_NODATA, RESOLV_TIMEOUT };
	struct fake f;
	struct resolv *r;
	char err[128];
	unsigned i;

	(void)state;
	fake_start(&f);
	assert_non_null(r = resolv_new(f.base, f.servers, 300, err, sizeof(err)));
	for (i = 0; i < 6; i++) {
		f.got = i;
		assert_int_equal(resolv_query(r, names[i], TLSA_TYPE, on_answer, &f), 0);
	}
	f.got = 0;
	event_base_dispatch(f.base);
	/* answers arrive in any order: check by status set */
	for (i = 0; i < 6; i++) {
		unsigned j, seen = 0;

		for (j = 0; j < 6; j++)
			seen += f.st[j] == want[i];
		assert_int_equal(seen, 1);
		if (f.st[i] == RESOLV_OK)
			assert_int_equal(f.ad[i], 1);
		if (f.st[i] == RESOLV_TIMEOUT)
			assert_int_equal(f.alen[i], 0);
	}
	resolv_free(r);
	fake_stop(&f);
}

static void
free_pending(void **state)
{
	struct fake f;
	struct resolv *r;
	char err[128];

	(void)state;
	fake_start(&f);
	assert_non_null(r = resolv_new(f.base, f.servers, 5000, err, sizeof(err)));
	assert_int_equal(resolv_query(r, "silent.example", 1, on_answer, &f), 0);
	event_base_loop(f.base, EVLOOP_NONBLOCK);
	resolv_free(r);	/* the callback must not run */
	event_base_loop(f.base, EVLOOP_NONBLOCK);
	assert_int_equal(f.done, 0);
	fake_stop(&f);
}

static void
on_many(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct fake *f = arg;

	(void)abuf;
	(void)alen;
	(void)ad;
	f->got += st == RESOLV_OK;
	if (++f->done == 1000)
		event_base_loopbreak(f->base);
}

/* more queries than may be in flight at once: they wait, none is lost */
static void
many(void **state)
{
	struct fake f;
	struct resolv *r;
	char err[128], name[64];
	unsigned i;

	(void)state;
	fake_start(&f);
	assert_non_null(r = resolv_new(f.base, f.servers, 5000, err, sizeof(err)));
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "q%u.example", i);
		assert_int_equal(resolv_query(r, name, TLSA_TYPE, on_many, &f), 0);
	}
	event_base_dispatch(f.base);
	assert_int_equal(f.done, 1000);
	assert_int_equal(f.got, 1000);
	resolv_free(r);
	fake_stop(&f);
}

static void
bad_servers(void **state)
{
	struct event_base *b = event_base_new();
	char err[128] = "";

	(void)state;
	assert_null(resolv_new(b, "not-an-address", 1000, err, sizeof(err)));
	assert_true(err[0] != 0);
	assert_string_equal(resolv_status_name(RESOLV_REFUSED), "refused");
	event_base_free(b);
}

/* MAINTD_DNS_SERVERS, as both the dns and the tls check validate it */
static void
servers_ok(void **state)
{
	(void)state;
	assert_true(resolv_servers_ok(""));
	assert_true(resolv_servers_ok(NULL));
	assert_true(resolv_servers_ok("127.0.0.1"));
	assert_true(resolv_servers_ok("127.0.0.1:53, ::1 [2001:db8::1]:5353"));
	assert_true(resolv_servers_ok("[192.0.2.1]:65535"));
	assert_false(resolv_servers_ok("not-an-address"));
	assert_false(resolv_servers_ok("127.0.0.1:0"));
	assert_false(resolv_servers_ok("127.0.0.1:65536"));
	assert_false(resolv_servers_ok("127.0.0.1:"));
	assert_false(resolv_servers_ok("127.0.0.1:5x"));
	assert_false(resolv_servers_ok("[::1"));
	assert_false(resolv_servers_ok("[]:53"));
	assert_false(resolv_servers_ok("[::1]x53"));
}

static void
on_one(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct fake *f = arg;

	(void)abuf;
	(void)alen;
	(void)ad;
	f->st[f->done++] = st;
	event_base_loopbreak(f->base);
}

/* A channel made once (at configure) serves one run after another; the
 * runs open no file (c-ares read its files when the channel was made). */
static void
channel_runs(void **state)
{
	struct resolv_chan *chan;
	struct resolv *r, *r2;
	struct fake f;
	char err[128], servers[128];
	unsigned run;

	(void)state;
	fake_start(&f);
	assert_non_null(chan = resolv_chan_new(f.servers, 2000, err, sizeof(err)));
	assert_int_equal(resolv_chan_servers(chan, servers, sizeof(servers)), 0);
	assert_string_equal(servers, f.servers);
	for (run = 0; run < 3; run++) {
		assert_non_null(r = resolv_open(f.base, chan));
		assert_null(r2 = resolv_open(f.base, chan));	/* one run at a time */
		assert_int_equal(errno, EBUSY);
		f.done = 0;
		assert_int_equal(resolv_query(r, "ok.example", TLSA_TYPE, on_one, &f), 0);
		event_base_dispatch(f.base);
		assert_int_equal(f.done, 1);
		assert_int_equal(f.st[0], RESOLV_OK);
		/* a query left pending is cancelled with the run, silently */
		assert_int_equal(resolv_query(r, "silent.example", 1, on_one, &f), 0);
		event_base_loop(f.base, EVLOOP_NONBLOCK);
		resolv_free(r);
		event_base_loop(f.base, EVLOOP_NONBLOCK);
		assert_int_equal(f.done, 1);
	}
	resolv_chan_free(chan);
	fake_stop(&f);
}

/* c-ares 1.18's ares_send sends the id in the query it is given: ours are
 * random, not the 0 of ares_create_query */
static void
random_ids(void **state)
{
	struct fake f;
	struct resolv *r;
	char err[128], name[64];
	unsigned i, k, same = 0, zero = 0;

	(void)state;
	fake_start(&f);
	assert_non_null(r = resolv_new(f.base, f.servers, 5000, err, sizeof(err)));
	for (i = 0; i < 32; i++) {
		snprintf(name, sizeof(name), "q%u.example", i);
		assert_int_equal(resolv_query(r, name, TLSA_TYPE, on_many, &f), 0);
	}
	while (f.done < 32)
		event_base_loop(f.base, EVLOOP_ONCE);
	assert_int_equal(f.nids, 32);
	for (i = 0; i < 32; i++) {
		zero += f.ids[i] == 0;
		for (k = 0; k < i; k++)
			same += f.ids[i] == f.ids[k];
	}
	assert_true(zero <= 1);
	assert_true(same <= 2);
	resolv_free(r);
	fake_stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(statuses),
		cmocka_unit_test(free_pending),
		cmocka_unit_test(many),
		cmocka_unit_test(bad_servers),
		cmocka_unit_test(servers_ok),
		cmocka_unit_test(channel_runs),
		cmocka_unit_test(random_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
