#include "finding.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const level_names[] = { "debug", "info", "warn", "crit", "fatal" };

const char *
level_name(enum level l)
{
	if ((unsigned)l >= sizeof(level_names) / sizeof(level_names[0]))
		return "crit";
	return level_names[l];
}

void
finding_init(struct finding *f, enum level level, enum finding_kind kind,
    const char *check, const char *event)
{
	f->level = level;
	f->kind = kind;
	f->check = check;
	f->event = event;
	f->nfields = 0;
	f->nsubject = 0;
	f->truncated = 0;
	f->hold = 0;
	f->used = 0;
}

void
finding_addn(struct finding *f, const char *key, const void *val, size_t len)
{
	struct finding_field *fl;
	size_t room = sizeof(f->buf) - f->used;

	if (f->nfields >= FINDING_FIELDS) {
		f->truncated = 1;
		return;
	}
	if (len > room) {
		len = room;
		f->truncated = 1;
	}
	fl = &f->field[f->nfields++];
	fl->key = key;
	fl->off = f->used;
	fl->len = len;
	if (len)
		memcpy(f->buf + f->used, val, len);
	f->used += len;
}

void
finding_add(struct finding *f, const char *key, const char *val)
{
	if (!val)
		val = "";
	finding_addn(f, key, val, strlen(val));
}

void
finding_addu(struct finding *f, const char *key, unsigned long long val)
{
	finding_addf(f, key, "%llu", val);
}

void
finding_addi(struct finding *f, const char *key, long long val)
{
	finding_addf(f, key, "%lld", val);
}

void
finding_addf(struct finding *f, const char *key, const char *fmt, ...)
{
	char tmp[FINDING_BUF];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(tmp)) {
		n = sizeof(tmp) - 1;
		f->truncated = 1;
	}
	finding_addn(f, key, tmp, (size_t)n);
}

void
finding_subject(struct finding *f)
{
	f->nsubject = f->nfields;
}

void
finding_error(struct finding *f, int errnum)
{
	const char *name = strerrorname_np(errnum);

	if (name)
		finding_add(f, "error", name);
	else
		finding_addf(f, "error", "errno-%d", errnum);
}
