/* Tag=value lists (RFC 6376 3.2) and the two records written in them: DMARC
 * (RFC 7489 6.3) and DKIM keys (RFC 6376 3.6.1). Pure functions, fuzzed. */
#ifndef DNSTAG_H
#define DNSTAG_H

#include <stddef.h>

#define TAG_MAX 32
#define DKIM_KEYMAX 2048	/* decoded p= bytes: RSA-8192 SPKI fits */

struct tag {
	const char *name, *val;
	size_t nlen, vlen;	/* value without surrounding white space */
};

struct taglist {
	unsigned n;
	struct tag t[TAG_MAX];
};

/* 0, or -1 on a syntax error (no "=", a bad name, a duplicate tag). */
int tag_parse(const char *s, size_t len, struct taglist *);
const struct tag *tag_get(const struct taglist *, const char *name);

/* 1 if the TXT string claims to be DMARC: its first tag is v=DMARC1. */
int dmarc_is_record(const char *s, size_t len);
/* 0 with the p= policy ("none", "quarantine", "reject") and the one for
 * subdomains (sp=, else p=), or -1 and *why. */
int dmarc_parse(const char *s, size_t len, const char **policy, const char **subpolicy,
    const char **why);

struct dkim_key {
	int ed25519;		/* k=ed25519; else rsa */
	size_t len;		/* decoded p=; 0: revoked */
	unsigned char key[DKIM_KEYMAX];
};

/* 1 if the TXT string looks like a DKIM key record (v=DKIM1 first, or a p= tag). */
int dkim_is_record(const char *s, size_t len);
/* 0, or -1 and *why. */
int dkim_parse(const char *s, size_t len, struct dkim_key *, const char **why);
/* Base64 with white space ignored: decoded length, or -1. */
long tag_base64(const char *s, size_t len, unsigned char *out, size_t outsize);

#endif
