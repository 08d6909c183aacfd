/* One c-ares channel driven by the daemon's libevent loop: c-ares sockets are
 * libevent events, c-ares timeouts one libevent timer. All DNS goes through
 * here: concurrent, non-blocking, no threads, no getaddrinfo. A check that
 * resolves makes its channel in its configure (struct resolv_chan: every file
 * c-ares reads is read then) and each run drives it (struct resolv), so that
 * a run opens no file: it may run chrooted to an empty directory. */
#ifndef RESOLV_H
#define RESOLV_H

#include <stddef.h>

struct event_base;
struct resolv;

/* The outcome of one query, decided from the raw answer, never guessed. */
enum resolv_status {
	RESOLV_OK,		/* NOERROR with answers */
	RESOLV_NODATA,		/* NOERROR, no answer of that type */
	RESOLV_NXDOMAIN,
	RESOLV_SERVFAIL,	/* temporary: suppresses dependent findings */
	RESOLV_REFUSED,		/* temporary */
	RESOLV_TIMEOUT,		/* temporary */
	RESOLV_ERROR		/* malformed answer or local failure: temporary */
};

/* abuf/alen: the raw answer (NULL/0 unless one arrived); ad: the AD bit. */
typedef void resolv_cb(void *arg, enum resolv_status, const unsigned char *abuf,
    size_t alen, int ad);

/* servers: NULL or "" for the system configuration, else a list of IP or
 * IP:PORT ([IPv6]:PORT) separated by commas or white space (MAINTD_DNS_SERVERS,
 * which every check that resolves validates with resolv_servers_ok). */
int resolv_servers_ok(const char *servers);	/* 1 valid, 0 not */

/* A c-ares channel made when a check is configured (before the probe process
 * forks and chroots): the system's servers (/etc/resolv.conf), the query-id
 * key (/dev/urandom) and every other file c-ares reads are read here, never
 * again. Each run of the check then uses it through resolv_open. NULL with
 * err filled (c-ares' text), errno ENOMEM when out of memory, else 0. */
struct resolv_chan *resolv_chan_new(const char *servers, unsigned timeout_ms,
    char *err, size_t errlen);
void resolv_chan_free(struct resolv_chan *);
/* The servers it asks, "IP:PORT,IP:PORT" (c-ares' form); 0, or -1. */
int resolv_chan_servers(const struct resolv_chan *, char *buf, size_t size);

/* The channel driven by the loop, for one run: one at a time per channel
 * (NULL and errno EBUSY otherwise; ENOMEM). resolv_free gives it back idle:
 * queries cancelled, sockets closed. */
struct resolv *resolv_open(struct event_base *, struct resolv_chan *);
/* resolv_chan_new and resolv_open in one; the channel is freed with it. */
struct resolv *resolv_new(struct event_base *, const char *servers,
    unsigned timeout_ms, char *err, size_t errlen);
/* Cancels every outstanding query (callbacks do not run) and frees.
 * Called from inside a resolv callback, the destruction waits until c-ares
 * has returned (no further callback runs); prefer calling it outside. */
void resolv_free(struct resolv *);
/* A query of class IN with EDNS and the AD bit set (RFC 6840), so a validating
 * resolver reports validation, and a random id (getrandom: no file). 0, or -1
 * (cb not called). */
int resolv_query(struct resolv *, const char *name, int type, resolv_cb *cb, void *arg);
const char *resolv_status_name(enum resolv_status);	/* "timeout", "servfail", ... */

#endif
