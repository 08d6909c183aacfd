#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls.h"
#include "testhome.h"
#include "tlsproto.h"

/* A self-signed P-256 certificate valid from now for the given days. */
static X509 *
make_cert(long days, const char *cn)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(k);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400 + 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Ex, \"Q\"", -1, -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	EVP_PKEY_free(k);
	return x;
}

static void
digest(struct tlsa_rr *rr, X509 *x, int selector, int mtype)
{
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len;

	memset(rr, 0, sizeof(*rr));
	rr->usage = 3;
	rr->selector = (unsigned char)selector;
	rr->mtype = (unsigned char)mtype;
	len = selector ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : i2d_X509(x, &der);
	assert_true(len > 0);
	if (mtype == 0) {
		assert_true((size_t)len <= sizeof(rr->data));
		memcpy(rr->data, der, (size_t)len);
		rr->len = (size_t)len;
	} else {
		assert_true(EVP_Digest(der, (size_t)len, rr->data, &n,
		    mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL));
		rr->len = n;
	}
	OPENSSL_free(der);
}

static void
tlsa_matching(void **state)
{
	X509 *a = make_cert(30, "a.example.test"), *b = make_cert(30, "a.example.test");
	struct tlsa_rr rr;
	int sel, mt;

	(void)state;
	for (sel = 0; sel <= 1; sel++)
		for (mt = 0; mt <= 2; mt++) {
			digest(&rr, a, sel, mt);
			assert_true(tls_tlsa_matches(&rr, a));
			assert_false(tls_tlsa_matches(&rr, b));	/* another key */
			rr.data[0] ^= 1;
			assert_false(tls_tlsa_matches(&rr, a));
			rr.data[0] ^= 1;
			rr.len--;
			assert_false(tls_tlsa_matches(&rr, a));
		}
	digest(&rr, a, 1, 1);
	rr.selector = 2;
	assert_false(tls_tlsa_matches(&rr, a));
	digest(&rr, a, 1, 1);
	rr.mtype = 3;
	assert_false(tls_tlsa_matches(&rr, a));
	X509_free(a);
	X509_free(b);
}

static void
cert_days(void **state)
{
	X509 *x = make_cert(12, "a.example.test"), *y = make_cert(-3, "b.example.test");
	long d;

	(void)state;
	assert_int_equal(tls_cert_days(x, &d), 0);
	assert_int_equal(d, 12);
	assert_int_equal(tls_cert_days(y, &d), 0);
	assert_int_equal(d, -2);	/* 2 days 23 hours ago: whole days */
	X509_free(x);
	X509_free(y);
}

static void
name_string(void **state)
{
	X509 *x = make_cert(1, "mx1.example.test");
	char buf[256], tiny[8];

	(void)state;
	assert_string_equal(tls_name_string(X509_get_subject_name(x), buf, sizeof(buf)),
	    "O=Ex\\, \\\"Q\\\",CN=mx1.example.test");
	assert_string_equal(tls_name_string(X509_get_subject_name(x), tiny, sizeof(tiny)),
	    "O=Ex\\, ");
	X509_free(x);
}

static char home[] = "/tmp/test_tls.XXXXXX";
static struct conf conf;

static void *
configure(struct conf_err *err)
{
	memset(err, 0, sizeof(*err));
	return check_tls.configure(&conf, err);
}

static void
seen(struct finding *f, const char *target)
{
	finding_init(f, LEVEL_DEBUG, FINDING_DETAIL, "tls", "seen-listening");
	finding_add(f, "target", target);
}

/* The root side of the memory: a run's memo of a target of this
 * configuration is kept in MAINTD_STATE/tls.seen; nothing else is. */
static void
seen_update(void **state)
{
	struct conf_err err;
	struct finding f;
	char path[256];
	void *cf;
	int dfd;

	(void)state;
	unsetenv("MAINTD_TLS_TARGETS");
	setenv("MAINTD_TLS_DANE", "0", 1);
	snprintf(path, sizeof(path), "%s/state", home);
	assert_true((dfd = open(path, O_RDONLY | O_DIRECTORY)) >= 0);
	assert_non_null(cf = configure(&err));
	seen(&f, "pop3://127.0.0.1:110");
	assert_int_equal(tls_seen_update(dfd, cf, &f), 1);
	assert_int_equal(tls_seen_update(dfd, cf, &f), 0);	/* known */
	seen(&f, "smtps://127.0.0.1:465");
	assert_int_equal(tls_seen_update(dfd, cf, &f), 1);
	assert_string_equal(testhome_get("state/tls.seen"), "smtps://127.0.0.1:465\npop3://127.0.0.1:110\n");
	seen(&f, "pop3://127.0.0.1:111");	/* not a target */
	assert_int_equal(tls_seen_update(dfd, cf, &f), 0);
	seen(&f, "/etc/passwd");
	assert_int_equal(tls_seen_update(dfd, cf, &f), 0);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "tls", "ok");
	finding_add(&f, "target", "smtp://127.0.0.1:25");
	assert_int_equal(tls_seen_update(dfd, cf, &f), 0);
	check_tls.config_free(cf);
	/* read back at the next configure */
	assert_non_null(cf = configure(&err));
	seen(&f, "pop3://127.0.0.1:110");
	assert_int_equal(tls_seen_update(dfd, cf, &f), 0);
	seen(&f, "pop3s://127.0.0.1:995");
	assert_int_equal(tls_seen_update(dfd, cf, &f), 1);
	check_tls.config_free(cf);
	close(dfd);
	unsetenv("MAINTD_TLS_DANE");
}

static void
write_cert(const char *rel)
{
	X509 *x = make_cert(30, "ca.example.test");
	FILE *fp;

	assert_non_null(fp = fopen(testhome_path(rel), "w"));
	assert_true(PEM_write_X509(fp, x) == 1);
	fclose(fp);
	X509_free(x);
}

/* CA paths that are not there, or hold no certificate, and names longer
 * than DNS allows are bad-config; a directory is read whole (no rehash) */
static void
bad_config(void **state)
{
	struct conf_err err;
	char path[256], name[305];
	void *cf;

	(void)state;
	setenv("MAINTD_TLS_DANE", "0", 1);
	setenv("MAINTD_TLS_CAFILE", "/nonexistent/ca.pem", 1);
	assert_null(configure(&err));
	assert_string_equal(err.var, "MAINTD_TLS_CAFILE");
	assert_string_equal(err.value, "/nonexistent/ca.pem");
	assert_int_equal(err.errnum, ENOENT);
	snprintf(path, sizeof(path), "%s/control/me", home);
	setenv("MAINTD_TLS_CAFILE", path, 1);	/* text, no certificate */
	assert_null(configure(&err));
	assert_string_equal(err.reason, "no-certificate");
	unsetenv("MAINTD_TLS_CAFILE");
	setenv("MAINTD_TLS_CAPATH", "/nonexistent", 1);
	assert_null(configure(&err));
	assert_string_equal(err.var, "MAINTD_TLS_CAPATH");
	assert_string_equal(err.value, "/nonexistent");
	assert_int_equal(err.errnum, ENOENT);
	snprintf(path, sizeof(path), "%s/cadir", home);
	mkdir(path, 0755);
	setenv("MAINTD_TLS_CAPATH", path, 1);
	assert_null(configure(&err));
	assert_string_equal(err.reason, "no-certificate");
	write_cert("cadir/ca.pem");
	assert_non_null(cf = configure(&err));
	check_tls.config_free(cf);
	unsetenv("MAINTD_TLS_CAPATH");
	memset(name, 'a', 304);
	name[50] = name[100] = name[150] = name[200] = name[250] = '.';
	name[304] = 0;
	setenv("MAINTD_TLS_NAME", name, 1);
	assert_null(configure(&err));
	assert_string_equal(err.var, "MAINTD_TLS_NAME");
	assert_string_equal(err.reason, "too-long");
	setenv("MAINTD_TLS_NAME", "mx..example", 1);
	assert_null(configure(&err));
	assert_string_equal(err.reason, "bad-name");
	unsetenv("MAINTD_TLS_NAME");
	unsetenv("MAINTD_TLS_DANE");
}

static void
target_format(void **state)
{
	struct tls_target t;
	const char *why;
	char buf[600];

	(void)state;
	assert_int_equal(tls_target_parse("smtp://[::1]:25/mx.example", 26, &t, &why), 0);
	tls_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, "smtp://[::1]:25/mx.example");
	assert_int_equal(tls_target_parse("POP3S://127.0.0.1:995", 21, &t, &why), 0);
	tls_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, "pop3s://127.0.0.1:995");
}

static int
setup(void **state)
{
	(void)state;
	if (testhome_make(home, "mx1.example.test") < 0)
		return -1;
	testhome_conf(&conf);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testhome_remove();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tlsa_matching),
		cmocka_unit_test(cert_days),
		cmocka_unit_test(name_string),
		cmocka_unit_test(seen_update),
		cmocka_unit_test(bad_config),
		cmocka_unit_test(target_format),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
