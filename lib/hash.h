/* FNV-1a, 64 bits: the one hash of the hash tables (active findings, the
 * queue's destinations, the send log's deliveries) and of env/'s digest.
 * Not for anything an attacker must not collide: bounded tables only. */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 14695981039346656037ULL

static inline uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 1099511628211ULL;
	return h;
}

/* The hash of n bytes at p, from the start. */
static inline uint64_t
fnv1a_of(const void *p, size_t n)
{
	return fnv1a(FNV1A_INIT, p, n);
}

#endif
