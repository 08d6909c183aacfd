/* What the findings of one connection (lib/tlsprobe.h, in the order the
 * probe emits them) say about why mail does not leave: the remote check's
 * result code (qmail-maintd(8), EVENTS, remote). The first failure decides
 * (refused, greeting-4xx, no-starttls, ...); a connection that got through
 * is judged by DANE when validated TLSA records were published, else by the
 * first certificate finding, else ok. Pure: no I/O, unit-tested. */
#ifndef REMOTEDIAG_H
#define REMOTEDIAG_H

#include "finding.h"
#include "tlsproto.h"

enum remotediag_dane { REMOTEDIAG_DANE_NONE, REMOTEDIAG_DANE_MATCH, REMOTEDIAG_DANE_MISMATCH };

struct remotediag {
	char code[32];		/* the first failure; "" none */
	char cert[32];		/* the first certificate finding; "" none */
	char reply[TLSPROTO_TEXT + 8];	/* the server's, with its code */
	char reason[256], error[48], phase[16];
	char certreason[256];
	enum remotediag_dane dane;	/* from DNSSEC-validated records only */
};

void remotediag_init(struct remotediag *);
/* One finding of the probe. */
void remotediag_add(struct remotediag *, const struct finding *);
/* The result code; for a certificate result, reason becomes its reason. */
const char *remotediag_result(struct remotediag *);
/* 1 when no server answered (refused, timed out, failed to connect):
 * qmail-remote goes on to the next address. */
int remotediag_unanswered(const struct remotediag *);

#endif
