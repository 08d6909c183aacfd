/* The tcpto check: lists queue/lock/tcpto like qmail-tcpto and clears, in
 * place and under qmail-remote's own lock, the records whose last timeout is
 * older than MAINTD_TCPTO_MAXAGE. The codec is in tcpto_table.h. */
#ifndef TCPTO_H
#define TCPTO_H

#include "check.h"

/* Every event code of the check (qmail-maintd(8), EVENTS, tcpto). */
#define TCPTO_EV_TABLE		"table"
#define TCPTO_EV_ENTRY		"entry"
#define TCPTO_EV_PRUNED		"pruned"
#define TCPTO_EV_FULL		"table-full"
#define TCPTO_EV_FUTURE		"future-time"
#define TCPTO_EV_UNKNOWN	"unknown-format"
#define TCPTO_EV_MISSING	"missing"
#define TCPTO_EV_NOTFILE	"not-a-file"
#define TCPTO_EV_OWNER		"bad-owner"
#define TCPTO_EV_MODE		"bad-mode"
#define TCPTO_EV_UNREADABLE	"unreadable"
#define TCPTO_EV_LOCKBUSY	"lock-busy"
#define TCPTO_EV_WAITED		"lock-waited"
#define TCPTO_EV_WRITEFAIL	"write-failed"

/* The lock wait: this many LOCK_NB attempts this far apart (90 ms in all),
 * then lock-busy. */
#define TCPTO_LOCK_TRIES 10
#define TCPTO_LOCK_MS 10

#define TCPTO_OWNER "qmailr"

extern const struct check check_tcpto;

#endif
