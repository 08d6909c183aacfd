/* SPF (RFC 7208): the record parser, macro expansion and check_host(),
 * pure functions over bytes. DNS answers come from a caller's lookup
 * function, which may say "not yet": the caller fetches the answer and runs
 * check_host() again (it is deterministic over the same answers). */
#ifndef SPF_H
#define SPF_H

#include <stddef.h>

#define SPF_MAXTERMS 64
#define SPF_MAXLOOKUPS 10	/* RFC 7208 4.6.4 */
#define SPF_MAXVOIDS 2

enum spf_result {
	SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL,
	SPF_TEMPERROR, SPF_PERMERROR,
	SPF_PENDING,		/* an answer is not there yet: ask again later */
	SPF_UNSUPPORTED		/* a macro we do not evaluate */
};

enum spf_mech {
	SPF_M_ALL, SPF_M_INCLUDE, SPF_M_A, SPF_M_MX, SPF_M_PTR, SPF_M_IP4,
	SPF_M_IP6, SPF_M_EXISTS
};

struct spf_term {
	char qual;		/* + - ~ ? */
	enum spf_mech mech;
	const char *arg;	/* domain-spec (NULL: the current domain) or address */
	size_t arglen;
	int cidr4, cidr6;	/* prefix lengths */
	unsigned char ip[16];
};

struct spf_record {
	unsigned n;
	struct spf_term t[SPF_MAXTERMS];
	const char *redirect;	/* the redirect= domain-spec or NULL */
	size_t redirlen;
};

/* 1 if the TXT string is an SPF version 1 record ("v=spf1" then space or end). */
int spf_is_record(const char *txt, size_t len);
/* 0, or -1 with *why (a static word) on a syntax error (a permerror). */
int spf_parse(const char *txt, size_t len, struct spf_record *, const char **why);

enum spf_dns { SPF_DNS_FOUND, SPF_DNS_VOID, SPF_DNS_TEMP, SPF_DNS_PENDING };

/* One answer: TXT strings joined, A 4 bytes, AAAA 16, MX/PTR a name. */
struct spf_rdata {
	const unsigned char *p;
	size_t len;
};

struct spf_answer {
	enum spf_dns st;
	unsigned n;
	const struct spf_rdata *rd;
};

typedef void spf_lookup_fn(void *arg, const char *name, int type, struct spf_answer *);

struct spf_ctx {
	int family;		/* 4 or 6 */
	unsigned char ip[16];
	const char *local;	/* the sender's local part, e.g. "postmaster" */
	const char *sender;	/* the sender's domain */
	const char *helo;
	spf_lookup_fn *lookup;
	void *arg;
	/* results of the last spf_check_host */
	unsigned lookups, voids;
	const char *why;	/* permerror/unsupported: a static word */
};

enum spf_result spf_check_host(struct spf_ctx *, const char *domain);
/* The DNS-querying terms of the whole include/redirect tree below domain
 * (what a receiver may have to look up). >= 0, or -1 pending, -2 unknown. */
int spf_count_lookups(struct spf_ctx *, const char *domain);
/* RFC 7208 7: expands a macro-string for domain d. 0, -1 syntax, -2 unsupported. */
int spf_expand(const struct spf_ctx *, const char *d, const char *spec, size_t len,
    char *out, size_t outsize);
const char *spf_result_name(enum spf_result);

#endif
