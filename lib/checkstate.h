/* What a network check remembers between runs when its runs execute in the
 * probe process (chrooted, unprivileged: it can write nothing). The run
 * reports a change of its memory as a finding (a "memo"); the root process
 * applies the memo to the config value it holds and keeps it in a small file
 * of MAINTD_STATE, which the check's configure reads back. These are the
 * file and finding helpers both sides share. */
#ifndef CHECKSTATE_H
#define CHECKSTATE_H

#include <stddef.h>

#include "finding.h"

/* MAINTD_STATE/name, opened without following a link and used only if it is
 * a regular file of this uid with one link, not writable by others: at most
 * max bytes, malloc'd and NUL-terminated, *len set. NULL when state is "",
 * or the file is absent, unsafe or unreadable (the memory starts empty). */
char *checkstate_read(const char *state, const char *name, size_t max, size_t *len);

/* The state directory for a save from the run itself (the daemon without
 * a probe process, as root): fd, or -1 when state is "" or it is not ours. */
int checkstate_dir(const char *state);

/* The value of the finding's field key (not NUL-terminated), or NULL. */
const char *checkstate_field(const struct finding *, const char *key, size_t *len);

/* The field as a decimal number of at most 7 digits: 0, or -1. */
int checkstate_number(const struct finding *, const char *key, unsigned long *out);

#endif
