/* The messages between the root process and the unprivileged probe process
 * (daemon/probe.c): length-prefixed, versioned, of a fixed schema. Pure: the
 * encoder and the bounded decoder work on byte buffers and are fuzzed; the
 * root side trusts nothing it decodes beyond this shape and validates every
 * field against the check table before it logs anything.
 *
 *   message = length:u32 (of what follows) version:u8 type:u8 check:u8 seq:u32 body
 *   root -> probe:  RUN (verbose:u8 input:str16)   CANCEL ()
 *   probe -> root:  HELLO (pid:u32)    DONE (status:u8)
 *                   FINDING (level:u8 kind:u8 nsubject:u8 truncated:u8 hold:u32 event:str8
 *                            nfields:u8 { key:str8 value:str16 }*)
 *                   SAMPLE (family:u8 op:u8 labels:u8 [l1:str16] [l2:str16]
 *                           value:f64 warn:f64 crit:f64)
 * Integers are big-endian; a str8/str16 is its length and its bytes; f64 is
 * the IEEE 754 bit pattern. */
#ifndef PROBEMSG_H
#define PROBEMSG_H

#include <stddef.h>

#include "finding.h"

#define PROBEMSG_VERSION 2
#define PROBEMSG_MAX 8192	/* a whole message, length prefix included */
#define PROBEMSG_EVENT 64	/* an event code's bytes at most */
#define PROBEMSG_KEY 32		/* a field key's bytes at most */
#define PROBEMSG_LABEL 255	/* a metric label value's bytes at most */
#define PROBEMSG_INPUT 6144	/* a run's input (CHECK_INPUT_MAX) at most */

enum probemsg_type {
	PROBEMSG_HELLO = 1, PROBEMSG_RUN, PROBEMSG_CANCEL, PROBEMSG_FINDING,
	PROBEMSG_SAMPLE, PROBEMSG_DONE
};

enum probemsg_op { PROBEMSG_SET, PROBEMSG_ADD, PROBEMSG_LIMITS };

struct probemsg {
	enum probemsg_type type;
	unsigned check;			/* index in the check table */
	unsigned long seq;		/* the run it belongs to */
	unsigned long pid;		/* HELLO */
	int verbose;			/* RUN */
	size_t inputlen;		/* RUN: the check's input, opaque here */
	unsigned char input[PROBEMSG_INPUT + 1];
	int status;			/* DONE: enum check_status */
	/* FINDING: f.event points at event, f.field[i].key at key[i]; f.check NULL */
	struct finding f;
	char event[PROBEMSG_EVENT + 1];
	char key[FINDING_FIELDS][PROBEMSG_KEY + 1];
	/* SAMPLE */
	unsigned family;
	enum probemsg_op op;
	int has_l1, has_l2;
	char l1[PROBEMSG_LABEL + 1], l2[PROBEMSG_LABEL + 1];
	double value, warn, crit;
};

/* The message's bytes in buf; their number, or 0 when it does not fit. A
 * FINDING is encoded from m->f (its event and keys, wherever they point). */
size_t probemsg_encode(const struct probemsg *m, unsigned char *buf, size_t size);

/* One message from the front of buf (len bytes so far): 1 decoded (*used
 * bytes), 0 more bytes needed, -1 malformed (*why names what). Bounded: it
 * never reads past len, never accepts a message over PROBEMSG_MAX, a key or
 * an event outside [a-z0-9_-], a label with a NUL, a level above crit, a
 * value that is not finite. */
int probemsg_decode(const unsigned char *buf, size_t len, struct probemsg *m, size_t *used,
    const char **why);

#endif
