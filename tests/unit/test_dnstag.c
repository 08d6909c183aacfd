#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dnstag.h"

#define S(s) s, strlen(s)

static void
tags(void **state)
{
	struct taglist l;
	const struct tag *t;

	(void)state;
	assert_int_equal(tag_parse(S(" v = DKIM1 ;k=rsa; p=AB CD\r\n EF ; "), &l), 0);
	assert_int_equal(l.n, 3);
	assert_non_null(t = tag_get(&l, "p"));
	assert_int_equal(t->vlen, strlen("AB CD\r\n EF"));
	assert_memory_equal(t->val, "AB CD", 5);
	assert_non_null(t = tag_get(&l, "v"));
	assert_int_equal(t->vlen, 5);
	assert_null(tag_get(&l, "x"));
	assert_int_equal(tag_parse(S("v=1; v=2"), &l), -1);	/* duplicate */
	assert_int_equal(tag_parse(S("v=1; novalue"), &l), -1);
	assert_int_equal(tag_parse(S("1x=1"), &l), -1);
	assert_int_equal(tag_parse(S(""), &l), 0);
	assert_int_equal(l.n, 0);
}

static void
dmarc(void **state)
{
	const char *p, *sp, *why;

	(void)state;
	assert_true(dmarc_is_record(S("v=DMARC1; p=none")));
	assert_true(dmarc_is_record(S("v = DMARC1")));
	assert_false(dmarc_is_record(S("v=DMARC10; p=none")));
	assert_false(dmarc_is_record(S("p=none; v=DMARC1")));
	assert_false(dmarc_is_record(S("v=spf1 -all")));
	assert_int_equal(dmarc_parse(S("v=DMARC1; p=Reject; sp=none; pct=100; adkim=s"), &p, &sp, &why), 0);
	assert_string_equal(p, "reject");
	assert_string_equal(sp, "none");
	assert_int_equal(dmarc_parse(S("v=DMARC1; p=quarantine"), &p, &sp, &why), 0);
	assert_string_equal(sp, "quarantine");
	assert_int_equal(dmarc_parse(S("v=DMARC1; p=none; sp=all"), &p, &sp, &why), -1);
	assert_string_equal(why, "bad-sp");
	assert_int_equal(dmarc_parse(S("v=DMARC1; rua=mailto:a@b"), &p, &sp, &why), -1);
	assert_string_equal(why, "no-policy");
	assert_int_equal(dmarc_parse(S("v=DMARC1; p=block"), &p, &sp, &why), -1);
	assert_string_equal(why, "bad-policy");
	assert_int_equal(dmarc_parse(S("v=DMARC1; p=none; pct=101"), &p, &sp, &why), -1);
	assert_string_equal(why, "bad-pct");
	assert_int_equal(dmarc_parse(S("v=DMARC1; p=none; p=reject"), &p, &sp, &why), -1);
	assert_string_equal(why, "syntax");
}

static void
dkim(void **state)
{
	static struct dkim_key k;
	const char *why;

	(void)state;
	assert_true(dkim_is_record(S("v=DKIM1; p=")));
	assert_true(dkim_is_record(S("k=rsa; p=AAAA")));
	assert_false(dkim_is_record(S("v=spf1 -all")));
	assert_int_equal(dkim_parse(S("v=DKIM1; k=rsa; p=TWFu TWE="), &k, &why), 0);
	assert_int_equal(k.len, 5);
	assert_memory_equal(k.key, "ManMa", 5);
	assert_int_equal(dkim_parse(S("v=DKIM1; p="), &k, &why), 0);
	assert_int_equal(k.len, 0);
	assert_int_equal(dkim_parse(S("v=DKIM1; k=ed25519; p=AAAA"), &k, &why), 0);
	assert_int_equal(k.ed25519, 1);
	assert_int_equal(dkim_parse(S("k=rsa; v=DKIM1; p=AAAA"), &k, &why), -1);
	assert_string_equal(why, "bad-version");
	assert_int_equal(dkim_parse(S("v=DKIM1; k=dsa; p=AAAA"), &k, &why), -1);
	assert_int_equal(dkim_parse(S("v=DKIM1; k=rsa"), &k, &why), -1);
	assert_string_equal(why, "no-key");
	assert_int_equal(dkim_parse(S("v=DKIM1; p=A*AA"), &k, &why), -1);
	assert_string_equal(why, "bad-base64");
}

static void
base64(void **state)
{
	unsigned char out[8];

	(void)state;
	assert_int_equal(tag_base64(S("TWFu"), out, sizeof(out)), 3);
	assert_int_equal(tag_base64(S("TQ=="), out, sizeof(out)), 1);
	assert_int_equal(out[0], 'M');
	assert_int_equal(tag_base64(S("TQ==TQ=="), out, sizeof(out)), -1);
	assert_int_equal(tag_base64(S("T"), out, sizeof(out)), -1);
	assert_int_equal(tag_base64(S("TWFuTWFuTWFu"), out, sizeof(out)), -1);	/* 9 > 8 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tags),
		cmocka_unit_test(dmarc),
		cmocka_unit_test(dkim),
		cmocka_unit_test(base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
