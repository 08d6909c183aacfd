/* The svc check: health of the services supervised under MAINTD_SERVICES
 * (daemontools, daemontools-encore, runit), read from their supervise/
 * directories the way svok and svstat do, without running them. */
#ifndef SVC_H
#define SVC_H

#include "check.h"

#define SVC_NOT_SUPERVISED "not-supervised"
#define SVC_DOWN "down"
#define SVC_PAUSED "paused"
#define SVC_FLAPPING "flapping"
#define SVC_LOG_DOWN "log-down"
#define SVC_UNREADABLE "unreadable"
#define SVC_BAD_STATUS "bad-status"
#define SVC_BAD_FILE "bad-file"	/* supervise's files not as supervise makes them */
#define SVC_TOO_MANY "too-many-services"
#define SVC_STATE_ERROR "state-error"
#define SVC_SERVICE "service"		/* detail: one per service */
#define SVC_SKIPPED "skipped"		/* detail: not a directory */

#define SVC_MAXSERVICES 1000	/* directories looked at in MAINTD_SERVICES */

#define SVC_XREF_WINDOW 300	/* crashes this near a look belong to a restarting service */

extern const struct check check_svc;

#endif
