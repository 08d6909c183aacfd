/* The man page documents every variable and every EVENT code of every check
 * this binary has (the check table is linked in). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

static char *man;

/* the page with roff's "\-" turned into "-" */
static int
load(void **state)
{
	const char *src = getenv("SOURCE_DIR");
	char path[4096];
	size_t n = 0, i, j;
	FILE *f;

	(void)state;
	if (!src)
		return -1;
	snprintf(path, sizeof(path), "%s/docs/qmail-maintd.8", src);
	if (!(f = fopen(path, "r")) || !(man = calloc(1, 1 << 20)))
		return -1;
	n = fread(man, 1, (1 << 20) - 1, f);
	fclose(f);
	for (i = j = 0; i < n; i++)
		if (!(man[i] == '\\' && man[i + 1] == '-'))
			man[j++] = man[i];
	man[j] = '\0';
	return 0;
}

static void
variables(void **state)
{
	const struct check *c;
	unsigned i, j;
	char name[64];

	(void)state;
	for (i = 0; conf_global_vars[i]; i++)
		if (!strstr(man, conf_global_vars[i]->name))
			fail_msg("variable %s is not in the man page", conf_global_vars[i]->name);
	for (i = 0; (c = maintd_checks[i]); i++) {
		for (j = 0; c->vars && c->vars[j]; j++)
			if (!strstr(man, c->vars[j]->name))
				fail_msg("variable %s of %s is not in the man page",
				    c->vars[j]->name, c->name);
		snprintf(name, sizeof(name), ".SS %s", c->name);
		if (!strstr(man, name))
			fail_msg("no section for check %s", c->name);
	}
}

static void
events(void **state)
{
	const struct check *c;
	char code[128];
	unsigned i, j;

	(void)state;
	for (i = 0; (c = maintd_checks[i]); i++)
		for (j = 0; c->events && c->events[j]; j++) {
			snprintf(code, sizeof(code), "%s: %s", check_word(c), c->events[j]);
			if (!strstr(man, code))
				fail_msg("event \"%s\" is not in the man page", code);
		}
}

/* Issue 15 item 7: every event paragraph of EVENTS ends with its one
 * "What to do:" (qmail-maintd -s prints it; daemon/advice.cmake builds its
 * table from the same lines). Read here on its own, not through the generated
 * table: a paragraph the generator failed to see still has to have one. */
struct head {
	char check[64], event[64];
	int advice;	/* "What to do:" lines of its paragraph */
	int text;	/* and they hold words */
	unsigned line;	/* of the page */
};

static int
level_word(const char *s, size_t n)
{
	static const char *const w[] = { "debug", "info", "warn", "crit", "fatal" };
	unsigned i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strlen(w[i]) == n && memcmp(s, w[i], n) == 0)
			return 1;
	return 0;
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

/* ".B LEVEL[|LEVEL] CHECK: EVENT ..." with "\fR/\fB EVENT2 ..." alternatives
 * (roff's "\-" is already "-"): adds each event to h[], returns how many */
static unsigned
parse_head(const char *l, const char *e, struct head *h, unsigned room, unsigned line)
{
	const char *p = l + 3, *q, *c;
	unsigned n = 0;
	size_t cl;

	if (e - l < 3 || memcmp(l, ".B ", 3) != 0)
		return 0;
	for (;;) {	/* levels */
		for (q = p; q < e && *q >= 'a' && *q <= 'z'; q++)
			;
		if (!level_word(p, (size_t)(q - p)))
			return 0;
		if (q < e && *q == '|') {
			p = q + 1;
			continue;
		}
		if (q >= e || *q != ' ')
			return 0;
		p = q + 1;
		break;
	}
	for (c = p; p < e && name_char(*p); p++)
		;
	cl = (size_t)(p - c);
	if (!cl || cl >= sizeof(h->check) || e - p < 2 || p[0] != ':' || p[1] != ' ')
		return 0;
	p += 2;
	for (;;) {
		for (q = p; q < e && name_char(*q); q++)
			;
		if (q > p && (q == e || *q == ' ') && n < room &&
		    (size_t)(q - p) < sizeof(h->event)) {
			memcpy(h[n].check, c, cl);
			h[n].check[cl] = '\0';
			memcpy(h[n].event, p, (size_t)(q - p));
			h[n].event[q - p] = '\0';
			h[n].advice = h[n].text = 0;
			h[n].line = line;
			n++;
		}
		/* the next alternative, if any */
		for (; q + 5 < e; q++)
			if (memcmp(q, "\\fR/\\fB", 7) == 0)
				break;
		if (q + 5 >= e)
			return n;
		for (p = q + 7; p < e && *p == ' '; p++)
			;
	}
}

#define MAXHEADS 1024

static void
advice(void **state)
{
	static struct head h[MAXHEADS];
	const char *p, *end, *e;
	const struct check *c;
	unsigned nh = 0, para = 0, line = 0, i, j, k, missing = 0;
	int expect_head = 0, collecting = 0;

	(void)state;
	assert_non_null(p = strstr(man, "\n.SH EVENTS\n"));
	for (e = man; e <= p; e++)
		line += *e == '\n';
	p++;
	for (end = p + 1; *end && !(end[-1] == '\n' && strncmp(end, ".SH ", 4) == 0); end++)
		;
	for (; p < end; p = e + 1) {
		line++;
		if (!(e = memchr(p, '\n', (size_t)(end - p))))
			e = end;
		if (e - p >= 3 && p[0] == '.' && (e - p == 3 || p[3] == ' ') &&
		    (memcmp(p, ".TP", 3) == 0 || memcmp(p, ".SS", 3) == 0 ||
		    memcmp(p, ".PP", 3) == 0 || memcmp(p, ".LP", 3) == 0 ||
		    ((e - p == 2 || p[2] == ' ') && memcmp(p, ".P", 2) == 0))) {
			para = nh;	/* a new paragraph: the heads from here on */
			expect_head = memcmp(p, ".TP", 3) == 0;
			collecting = 0;
			continue;
		}
		if (e - p >= 3 && memcmp(p, ".TQ", 3) == 0) {
			expect_head = 1;
			continue;
		}
		if (expect_head) {
			expect_head = 0;
			nh += parse_head(p, e, h + nh, MAXHEADS - nh, line);
			continue;
		}
		if (para == nh)
			continue;	/* not an event paragraph */
		if (e - p >= 11 && memcmp(p, "What to do:", 11) == 0) {
			for (i = para; i < nh; i++)
				h[i].advice++;
			collecting = 1;
			for (p += 11; p < e; p++)
				if (*p != ' ' && *p != '\t')
					for (i = para; i < nh; i++)
						h[i].text = 1;
			continue;
		}
		if (collecting) {	/* it runs on up to the next request */
			if (p == e || *p == '.' || *p == '\'')
				collecting = 0;
			else
				for (i = para; i < nh; i++)
					h[i].text = 1;
		}
	}
	assert_true(nh > 50);
	for (i = 0; i < nh; i++) {
		if (h[i].advice == 1 && h[i].text)
			continue;
		print_error("qmail-maintd(8):%u: \"%s: %s\" has %s \"What to do:\"\n",
		    h[i].line, h[i].check, h[i].event,
		    h[i].advice > 1 ? "more than one" : h[i].advice ? "an empty" : "no");
		missing++;
	}
	if (missing)
		fail_msg("%u of %u event codes of qmail-maintd(8) lack their one \"What to do:\"",
		    missing, nh);
	/* and every code a check emits is such a paragraph (CHECK: the events of
	 * every check, documented once) */
	for (i = 0; (c = maintd_checks[i]); i++)
		for (j = 0; c->events && c->events[j]; j++) {
			for (k = 0; k < nh; k++)
				if ((strcmp(h[k].check, check_word(c)) == 0 ||
				    strcmp(h[k].check, "CHECK") == 0) &&
				    strcmp(h[k].event, c->events[j]) == 0)
					break;
			if (k == nh)
				fail_msg("event \"%s: %s\" has no paragraph under EVENTS",
				    check_word(c), c->events[j]);
		}
	print_message("%u event codes under EVENTS, each with its \"What to do:\"\n", nh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(variables),
		cmocka_unit_test(events),
		cmocka_unit_test(advice),
	};

	return cmocka_run_group_tests(tests, load, NULL);
}
