#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tlsa_matching),
		cmocka_unit_test(cert_days),
		cmocka_unit_test(name_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
