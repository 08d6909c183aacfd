/* The remote check: a diagnosis of the remote side of each stuck domain
 * (lib/stuck.h), done as qmail-remote would connect, in the probe process;
 * its findings are queue: stuck-diagnosis lines (qmail-maintd(8), remote). */
#ifndef REMOTE_H
#define REMOTE_H

#include "check.h"

extern const struct check check_remote;

#endif
