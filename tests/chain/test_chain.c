/* SPDX-License-Identifier: MIT */
/*
 * Chain verification (common/certverify.c): anchors and their status,
 * dates, CRL modes, KU/EKU, trust-set construction, loading.  Every
 * certificate is made here by certgen.c; times are fixed (T0) and passed
 * as pol.now, except where the clock itself is the point.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <accord/certverify.h>

#include "certgen.h"

#define T0 INT64_C(1700000000)   /* 2023-11-14 */
#define DAY CERTGEN_DAY

/* The PKI every test shares, made once. */
static struct certgen_cert root, inter, other_root;
static struct certgen_cert leaf_root;   /* under root, serial 101 */
static struct certgen_cert leaf_inter;  /* under inter, serial 201 */

/* ---- helpers ------------------------------------------------------------- */

static void make(struct certgen_cert *out, const char *subject, bool ca,
		 const struct certgen_cert *issuer, uint64_t serial,
		 int64_t nb, int64_t na)
{
	struct certgen_opts o;

	certgen_opts_init(&o);
	o.subject = subject;
	o.is_ca = ca;
	o.serial = serial;
	o.base = T0;
	o.not_before = nb;
	o.not_after = na;
	assert_int_equal(certgen_make(&o, issuer, out), 0);
}

/* A leaf under issuer, valid around T0, with the given KU/EKU. */
static void make_leaf(struct certgen_cert *out, const char *cn,
		      const struct certgen_cert *issuer, uint64_t serial,
		      const char *ku, const char *eku)
{
	struct certgen_opts o;
	char subj[200];

	snprintf(subj, sizeof(subj), "/C=GB/O=Example/CN=%s", cn);
	certgen_opts_init(&o);
	o.subject = subj;
	o.serial = serial;
	o.base = T0;
	o.ku = ku;
	o.eku = eku;
	assert_int_equal(certgen_make(&o, issuer, out), 0);
}

static X509_CRL *make_crl(const struct certgen_cert *ca, const uint64_t *rev,
			  size_t n, int64_t last, int64_t next)
{
	struct certgen_crl_opts o;
	X509_CRL *c;

	certgen_crl_opts_init(&o);
	o.base = T0;
	o.revoked = rev;
	o.nrevoked = n;
	o.last_update = last;
	o.next_update = next;
	c = certgen_crl(&o, ca);
	assert_non_null(c);
	return c;
}

/* The DER inputs of a trust set; freed by trust_in_free(). */
struct trust_in {
	struct accord_ca_in cas[8];
	struct accord_crl_in crls[8];
	unsigned char *bufs[16];
	size_t ncas, ncrls, nbufs;
};

static void in_ca(struct trust_in *in, const struct certgen_cert *c,
		  uint32_t status, const char *label)
{
	unsigned char *der;
	size_t len;

	assert_true(in->ncas < 8);
	assert_int_equal(certgen_cert_der(c->x509, &der, &len), 0);
	in->bufs[in->nbufs++] = der;
	in->cas[in->ncas++] = (struct accord_ca_in){
		.der = der, .len = len, .status = status, .label = label };
}

static void in_crl(struct trust_in *in, X509_CRL *crl)
{
	unsigned char *der;
	size_t len;

	assert_true(in->ncrls < 8);
	assert_int_equal(certgen_crl_der(crl, &der, &len), 0);
	in->bufs[in->nbufs++] = der;
	in->crls[in->ncrls++] = (struct accord_crl_in){ .der = der, .len = len };
}

static void trust_in_free(struct trust_in *in)
{
	size_t i;

	for (i = 0; i < in->nbufs; i++)
		free(in->bufs[i]);
	memset(in, 0, sizeof(*in));
}

static struct accord_trust *build(struct trust_in *in)
{
	struct accord_trust *t = NULL;
	struct accord_err err = { 0 };
	int r = accord_trust_new(in->cas, in->ncas, in->crls, in->ncrls, &t,
				 &err);

	if (r != 0)
		fprintf(stderr, "accord_trust_new: %d %s\n", r, err.msg);
	assert_int_equal(r, 0);
	assert_non_null(t);
	trust_in_free(in);
	return t;
}

/* A trust set of one CA, no CRL. */
static struct accord_trust *trust1(const struct certgen_cert *ca,
				   uint32_t status)
{
	struct trust_in in = { 0 };

	in_ca(&in, ca, status, "ca");
	return build(&in);
}

static void pol_at(struct accord_cert_policy *pol, int64_t now)
{
	accord_cert_policy_default(pol);
	pol->now = now;
}

/* Verifies and returns the reason; the verdict goes to *v. */
static enum accord_cert_reason verify(const struct accord_trust *t, X509 *leaf,
				      STACK_OF(X509) *untrusted,
				      const struct accord_cert_policy *pol,
				      struct accord_cert_verdict *v)
{
	assert_int_equal(accord_trust_verify(t, leaf, untrusted, pol, v), 0);
	return v->reason;
}

static enum accord_cert_reason verify_at(const struct accord_trust *t,
					 X509 *leaf, STACK_OF(X509) *untrusted,
					 uint32_t crl_mode,
					 struct accord_cert_verdict *v)
{
	struct accord_cert_policy pol;

	pol_at(&pol, T0);
	pol.crl = crl_mode;
	return verify(t, leaf, untrusted, &pol, v);
}

static STACK_OF(X509) *stack_of(X509 *x)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	assert_non_null(sk);
	assert_true(sk_X509_push(sk, x) > 0);
	return sk;
}

/* ---- fixtures ------------------------------------------------------------ */

static int group_setup(void **state)
{
	(void)state;
	make(&root, "/C=GB/O=Example/CN=Test Root", true, NULL, 1, -10 * DAY,
	     3650 * DAY);
	make(&inter, "/C=GB/O=Example/CN=Test Intermediate", true, &root, 2,
	     -5 * DAY, 1000 * DAY);
	make(&other_root, "/C=GB/O=Other/CN=Other Root", true, NULL, 3,
	     -10 * DAY, 3650 * DAY);
	make_leaf(&leaf_root, "user1", &root, 101, NULL, NULL);
	make_leaf(&leaf_inter, "user2", &inter, 201, NULL, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	certgen_cert_free(&leaf_inter);
	certgen_cert_free(&leaf_root);
	certgen_cert_free(&other_root);
	certgen_cert_free(&inter);
	certgen_cert_free(&root);
	return 0;
}

/* ---- chains and anchors -------------------------------------------------- */

static void test_good_leaf_root(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct accord_cert_verdict v;

	(void)state;
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_OK);
	assert_int_equal(v.anchor, 0);
	assert_int_equal(v.anchor_status, ACCORD_CA_TRUST);
	assert_int_equal(v.depth, 2);
	assert_non_null(strstr(v.detail, "CN=Test Root"));
	/* the leaf itself is not in the set: "anchor" is the root */
	assert_null(strstr(v.detail, "user1"));
	accord_trust_free(t);
}

static void test_leaf_under_untrusted_intermediate(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	STACK_OF(X509) *sk = stack_of(inter.x509);
	struct accord_cert_verdict v;

	(void)state;
	assert_int_equal(verify_at(t, leaf_inter.x509, sk, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_OK);
	assert_int_equal(v.anchor, 0);
	assert_int_equal(v.depth, 3);
	/* without the intermediate there is no path */
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_UNKNOWN_CA);
	assert_int_equal(v.anchor, -1);
	assert_non_null(strstr(v.detail, "depth 0"));
	assert_non_null(strstr(v.detail, "CN=user2"));
	sk_X509_free(sk);
	accord_trust_free(t);
}

static void test_intermediate_as_anchor(void **state)
{
	struct trust_in in = { 0 };
	struct accord_trust *t;
	struct accord_cert_verdict v;

	(void)state;
	in_ca(&in, &other_root, ACCORD_CA_TRUST, "other");
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	assert_int_equal(v.anchor, 1);
	assert_int_equal(v.anchor_status, ACCORD_CA_TRUST);
	assert_int_equal(v.depth, 2);
	/* the root's own leaf does not verify against the intermediate */
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_UNKNOWN_CA);
	accord_trust_free(t);
}

static void test_hightrust_anchor(void **state)
{
	struct trust_in in = { 0 };
	struct accord_trust *t;
	struct accord_cert_verdict v;

	(void)state;
	in_ca(&in, &other_root, ACCORD_CA_TRUST, "other");
	in_ca(&in, &root, ACCORD_CA_HIGHTRUST, "root");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	assert_int_equal(v.anchor, 1);
	assert_int_equal(v.anchor_status, ACCORD_CA_HIGHTRUST);
	accord_trust_free(t);

	/* with a TRUST intermediate of the set in between: the root, the
	 * end of the chain, is still the anchor */
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	in_ca(&in, &root, ACCORD_CA_HIGHTRUST, "root");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	assert_int_equal(v.anchor, 1);
	assert_int_equal(v.anchor_status, ACCORD_CA_HIGHTRUST);
	assert_int_equal(v.depth, 3);
	assert_non_null(strstr(v.detail, "CN=Test Root"));
	accord_trust_free(t);
}

static void test_unknown_ca(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct certgen_cert foreign = { 0 }, selfsigned = { 0 };
	struct certgen_opts o;
	struct accord_cert_verdict v;

	(void)state;
	make_leaf(&foreign, "stranger", &other_root, 301, NULL, NULL);
	assert_int_equal(verify_at(t, foreign.x509, NULL, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_UNKNOWN_CA);
	assert_int_equal(v.anchor, -1);
	assert_int_equal(v.anchor_status, 0);
	assert_non_null(strstr(v.detail, "CN=stranger"));

	/* a self-signed leaf */
	certgen_opts_init(&o);
	o.subject = "/CN=selfie";
	o.base = T0;
	assert_int_equal(certgen_make(&o, NULL, &selfsigned), 0);
	assert_int_equal(verify_at(t, selfsigned.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_UNKNOWN_CA);

	/* the client sending the foreign root does not help */
	{
		STACK_OF(X509) *sk = stack_of(other_root.x509);

		assert_int_equal(verify_at(t, foreign.x509, sk,
					   ACCORD_CRL_AUTO, &v),
				 ACCORD_CERT_UNKNOWN_CA);
		sk_X509_free(sk);
	}
	certgen_cert_free(&selfsigned);
	certgen_cert_free(&foreign);
	accord_trust_free(t);
}

static void test_notrust_root(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_NOTRUST);
	struct accord_cert_verdict v;

	(void)state;
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_CA_NOTRUST);
	assert_int_equal(v.anchor, 0);
	assert_int_equal(v.anchor_status, ACCORD_CA_NOTRUST);
	assert_non_null(strstr(v.detail, "NOTRUST"));
	assert_non_null(strstr(v.detail, "CN=Test Root"));
	accord_trust_free(t);
}

static void test_same_ca_twice(void **state)
{
	struct trust_in in = { 0 };
	struct accord_trust *t;
	struct accord_cert_verdict v;

	(void)state;
	/* the same certificate under two statuses: NOTRUST wins */
	in_ca(&in, &root, ACCORD_CA_TRUST, "a");
	in_ca(&in, &root, ACCORD_CA_NOTRUST, "b");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_CA_NOTRUST);
	assert_int_equal(v.anchor, 1);
	assert_int_equal(v.anchor_status, ACCORD_CA_NOTRUST);
	accord_trust_free(t);
	/* twice TRUST: the first */
	in_ca(&in, &other_root, ACCORD_CA_TRUST, "o");
	in_ca(&in, &root, ACCORD_CA_TRUST, "a");
	in_ca(&in, &root, ACCORD_CA_HIGHTRUST, "b");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	assert_int_equal(v.anchor, 1);
	accord_trust_free(t);
}

static void test_notrust_intermediate(void **state)
{
	struct trust_in in = { 0 };
	struct accord_trust *t;
	STACK_OF(X509) *sk = stack_of(inter.x509);
	struct accord_cert_verdict v;

	(void)state;
	/* both TRUST: the chain verifies (so NOTRUST below is the status) */
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	accord_trust_free(t);

	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_ca(&in, &inter, ACCORD_CA_NOTRUST, "inter");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_CA_NOTRUST);
	assert_non_null(strstr(v.detail, "depth 1"));
	assert_non_null(strstr(v.detail, "CN=Test Intermediate"));
	/* the chain still runs to the root, which anchors it */
	assert_int_equal(v.anchor, 0);
	assert_int_equal(v.anchor_status, ACCORD_CA_TRUST);
	assert_int_equal(v.depth, 3);
	/* the client's own copy of the intermediate changes nothing */
	assert_int_equal(verify_at(t, leaf_inter.x509, sk, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_CA_NOTRUST);
	/* the root's direct leaf is not affected */
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	assert_int_equal(v.anchor, 0);
	sk_X509_free(sk);
	accord_trust_free(t);

	/* a NOTRUST root above a TRUST intermediate: refused too */
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	in_ca(&in, &root, ACCORD_CA_NOTRUST, "root");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_CA_NOTRUST);
	assert_int_equal(v.anchor, 1);
	assert_int_equal(v.anchor_status, ACCORD_CA_NOTRUST);
	assert_non_null(strstr(v.detail, "depth 2"));
	accord_trust_free(t);
}

static void test_leaf_is_ca_of_set(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct accord_cert_policy pol;
	struct accord_cert_verdict v;

	(void)state;
	pol_at(&pol, T0);
	snprintf(pol.eku, sizeof(pol.eku), "any");
	pol.require_ku_ds = false;
	assert_int_equal(verify(t, root.x509, NULL, &pol, &v),
			 ACCORD_CERT_INVALID);
	assert_int_equal(v.depth, 1);
	accord_trust_free(t);
}

/* ---- dates --------------------------------------------------------------- */

static void test_expired_leaf(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct certgen_cert c = { 0 };
	struct accord_cert_verdict v;

	(void)state;
	make(&c, "/CN=late", false, &root, 401, -30 * DAY, -1 * DAY);
	assert_int_equal(verify_at(t, c.x509, NULL, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_EXPIRED);
	assert_non_null(strstr(v.detail, "certificate has expired"));
	assert_non_null(strstr(v.detail, "depth 0"));
	assert_non_null(strstr(v.detail, "CN=late"));
	certgen_cert_free(&c);
	accord_trust_free(t);
}

static void test_not_yet_valid_leaf(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct certgen_cert c = { 0 };
	struct accord_cert_verdict v;

	(void)state;
	make(&c, "/CN=early", false, &root, 402, 1 * DAY, 30 * DAY);
	assert_int_equal(verify_at(t, c.x509, NULL, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_NOT_YET_VALID);
	assert_non_null(strstr(v.detail, "CN=early"));
	certgen_cert_free(&c);
	accord_trust_free(t);
}

static void test_expired_intermediate(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct certgen_cert old = { 0 }, c = { 0 };
	STACK_OF(X509) *sk;
	struct accord_cert_verdict v;

	(void)state;
	make(&old, "/C=GB/O=Example/CN=Old Intermediate", true, &root, 403,
	     -100 * DAY, -1 * DAY);
	make(&c, "/CN=under-old", false, &old, 404, -2 * DAY, 30 * DAY);
	sk = stack_of(old.x509);
	assert_int_equal(verify_at(t, c.x509, sk, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_EXPIRED);
	assert_non_null(strstr(v.detail, "depth 1"));
	assert_non_null(strstr(v.detail, "CN=Old Intermediate"));
	sk_X509_free(sk);
	certgen_cert_free(&c);
	certgen_cert_free(&old);
	accord_trust_free(t);
}

static void test_explicit_now(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct certgen_cert day = { 0 }, current = { 0 };
	struct certgen_opts o;
	struct accord_cert_policy pol;
	struct accord_cert_verdict v;

	(void)state;
	/* valid from T0 for one day */
	make(&day, "/CN=one-day", false, &root, 405, 0, DAY);
	pol_at(&pol, T0 + 3600);
	assert_int_equal(verify(t, day.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	pol_at(&pol, T0 + 2 * DAY);
	assert_int_equal(verify(t, day.x509, NULL, &pol, &v),
			 ACCORD_CERT_EXPIRED);
	pol_at(&pol, T0 - 3600);
	assert_int_equal(verify(t, day.x509, NULL, &pol, &v),
			 ACCORD_CERT_NOT_YET_VALID);
	/* now == 0: the clock, which is well past T0 + 1 day */
	pol_at(&pol, 0);
	assert_int_equal(verify(t, day.x509, NULL, &pol, &v),
			 ACCORD_CERT_EXPIRED);
	/* and a certificate valid around the clock passes with now == 0 */
	certgen_opts_init(&o);
	o.subject = "/CN=current";
	o.serial = 406;
	o.base = (int64_t)time(NULL);
	assert_int_equal(certgen_make(&o, &root, &current), 0);
	assert_int_equal(verify(t, current.x509, NULL, &pol, &v),
			 ACCORD_CERT_OK);
	pol_at(&pol, T0);
	assert_int_equal(verify(t, current.x509, NULL, &pol, &v),
			 ACCORD_CERT_NOT_YET_VALID);
	certgen_cert_free(&current);
	certgen_cert_free(&day);
	accord_trust_free(t);
}

/* ---- revocation ---------------------------------------------------------- */

static void test_revoked_auto_and_require(void **state)
{
	static const uint64_t rev[] = { 101, 999 };
	struct trust_in in = { 0 };
	struct accord_trust *t;
	struct certgen_cert ok = { 0 };
	X509_CRL *crl = make_crl(&root, rev, 2, -3600, 7 * DAY);
	struct accord_cert_verdict v;

	(void)state;
	make_leaf(&ok, "fine", &root, 102, NULL, NULL);
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_crl(&in, crl);
	t = build(&in);

	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_REVOKED);
	assert_non_null(strstr(v.detail, "revoked"));
	assert_non_null(strstr(v.detail, "CN=user1"));
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_REVOKED);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_OFF, &v),
			 ACCORD_CERT_OK);
	/* not on the list: fine in both modes (the anchor needs no CRL) */
	assert_int_equal(verify_at(t, ok.x509, NULL, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_OK);
	assert_int_equal(verify_at(t, ok.x509, NULL, ACCORD_CRL_REQUIRE, &v),
			 ACCORD_CERT_OK);
	X509_CRL_free(crl);
	certgen_cert_free(&ok);
	accord_trust_free(t);
}

static void test_require_without_crl(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct accord_cert_verdict v;

	(void)state;
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_CRL_MISSING);
	assert_non_null(strstr(v.detail, "depth 0"));
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	accord_trust_free(t);
}

static void test_require_chain_crls(void **state)
{
	static const uint64_t rev[] = { 201 };
	struct trust_in in = { 0 };
	struct accord_trust *t;
	X509_CRL *root_crl = make_crl(&root, NULL, 0, -3600, 7 * DAY);
	X509_CRL *inter_crl = make_crl(&inter, NULL, 0, -3600, 7 * DAY);
	X509_CRL *inter_rev = make_crl(&inter, rev, 1, -3600, 7 * DAY);
	struct accord_cert_verdict v;

	(void)state;
	/* only the root's CRL: the leaf (depth 0) is not covered */
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	in_crl(&in, root_crl);
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_CRL_MISSING);
	assert_non_null(strstr(v.detail, "depth 0"));
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	accord_trust_free(t);

	/* only the intermediate's: the intermediate (depth 1) is not */
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	in_crl(&in, inter_crl);
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_CRL_MISSING);
	assert_non_null(strstr(v.detail, "depth 1"));
	accord_trust_free(t);

	/* both: covered */
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	in_crl(&in, root_crl);
	in_crl(&in, inter_crl);
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_OK);
	assert_int_equal(v.depth, 3);
	accord_trust_free(t);

	/* the intermediate as the anchor (no root in the set): its own
	 * revocation is not asked for, only the leaf's */
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	in_crl(&in, inter_crl);
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_OK);
	assert_int_equal(v.depth, 2);
	assert_int_equal(v.anchor, 0);
	accord_trust_free(t);
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_CRL_MISSING);
	assert_non_null(strstr(v.detail, "depth 0"));
	accord_trust_free(t);

	/* AUTO: the intermediate's CRL alone is used where it applies */
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_ca(&in, &inter, ACCORD_CA_TRUST, "inter");
	in_crl(&in, inter_rev);
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_inter.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_REVOKED);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_OK);
	accord_trust_free(t);

	X509_CRL_free(inter_rev);
	X509_CRL_free(inter_crl);
	X509_CRL_free(root_crl);
}

static void test_expired_crl(void **state)
{
	struct trust_in in = { 0 };
	struct accord_trust *t;
	X509_CRL *crl = make_crl(&root, NULL, 0, -8 * DAY, -1 * DAY);
	X509_CRL *future = make_crl(&root, NULL, 0, DAY, 8 * DAY);
	struct accord_cert_verdict v;

	(void)state;
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_crl(&in, crl);
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_CRL_MISSING);
	assert_non_null(strstr(v.detail, "CRL has expired"));
	/* AUTO: a CRL the set holds and that lapsed is not ignored */
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_AUTO,
				   &v), ACCORD_CERT_CRL_MISSING);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_OFF,
				   &v), ACCORD_CERT_OK);
	accord_trust_free(t);

	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_crl(&in, future);
	t = build(&in);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_CRL_MISSING);
	assert_non_null(strstr(v.detail, "CRL is not yet valid"));
	accord_trust_free(t);
	X509_CRL_free(future);
	X509_CRL_free(crl);
}

/* ---- KU / EKU ------------------------------------------------------------ */

static void test_eku(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct certgen_cert server = { 0 }, none = { 0 }, card = { 0 },
			    pk = { 0 };
	struct accord_cert_policy pol;
	struct accord_cert_verdict v;

	(void)state;
	make_leaf(&server, "server", &root, 501, NULL, "serverAuth");
	make_leaf(&none, "noeku", &root, 502, NULL, "");
	make_leaf(&card, "card", &root, 503, NULL, "msSmartcardLogin");
	make_leaf(&pk, "pk", &root, 504, NULL, "1.3.6.1.5.2.3.4,emailProtection");

	/* default: clientAuth */
	pol_at(&pol, T0);
	assert_int_equal(verify(t, server.x509, NULL, &pol, &v),
			 ACCORD_CERT_EXT_KEY_USAGE);
	assert_non_null(strstr(v.detail, "CN=server"));
	assert_int_equal(verify(t, none.x509, NULL, &pol, &v),
			 ACCORD_CERT_EXT_KEY_USAGE);
	assert_int_equal(verify(t, card.x509, NULL, &pol, &v),
			 ACCORD_CERT_EXT_KEY_USAGE);
	assert_int_equal(verify(t, leaf_root.x509, NULL, &pol, &v),
			 ACCORD_CERT_OK);

	/* "any" and "" disable the check */
	snprintf(pol.eku, sizeof(pol.eku), "any");
	assert_int_equal(verify(t, server.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	assert_int_equal(verify(t, none.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	pol.eku[0] = '\0';
	assert_int_equal(verify(t, none.x509, NULL, &pol, &v), ACCORD_CERT_OK);

	/* a list: any one suffices */
	snprintf(pol.eku, sizeof(pol.eku), "codeSigning, serverAuth");
	assert_int_equal(verify(t, server.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	assert_int_equal(verify(t, leaf_root.x509, NULL, &pol, &v),
			 ACCORD_CERT_EXT_KEY_USAGE);
	assert_int_equal(verify(t, none.x509, NULL, &pol, &v),
			 ACCORD_CERT_EXT_KEY_USAGE);
	snprintf(pol.eku, sizeof(pol.eku), "msSmartcardLogin");
	assert_int_equal(verify(t, card.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	snprintf(pol.eku, sizeof(pol.eku), "1.3.6.1.4.1.311.20.2.2");
	assert_int_equal(verify(t, card.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	snprintf(pol.eku, sizeof(pol.eku), "pkinit");
	assert_int_equal(verify(t, pk.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	assert_int_equal(verify(t, card.x509, NULL, &pol, &v),
			 ACCORD_CERT_EXT_KEY_USAGE);
	snprintf(pol.eku, sizeof(pol.eku), "clientAuth,emailProtection");
	assert_int_equal(verify(t, pk.x509, NULL, &pol, &v), ACCORD_CERT_OK);

	certgen_cert_free(&pk);
	certgen_cert_free(&card);
	certgen_cert_free(&none);
	certgen_cert_free(&server);
	accord_trust_free(t);
}

static void test_eku_bad_policy(void **state)
{
	static const char *const bad[] = {
		"bogus", "clientAuth,bogus", "clientAuth,,serverAuth",
		"clientAuth,", ",clientAuth", "any,clientAuth", "clientauth",
		"1.", ".1.2", "1..2", "1", "clientAuth, ,serverAuth",
	};
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct accord_cert_policy pol;
	struct accord_cert_verdict v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pol_at(&pol, T0);
		snprintf(pol.eku, sizeof(pol.eku), "%s", bad[i]);
		assert_int_equal(accord_trust_verify(t, leaf_root.x509, NULL,
						     &pol, &v), -EINVAL);
		assert_int_not_equal(v.reason, ACCORD_CERT_OK);
		assert_int_equal(v.anchor, -1);
	}
	/* not NUL-terminated */
	pol_at(&pol, T0);
	memset(pol.eku, 'a', sizeof(pol.eku));
	assert_int_equal(accord_trust_verify(t, leaf_root.x509, NULL, &pol, &v),
			 -EINVAL);
	/* the good forms around them do parse */
	snprintf(pol.eku, sizeof(pol.eku), " clientAuth , 1.2.3 ");
	assert_int_equal(verify(t, leaf_root.x509, NULL, &pol, &v),
			 ACCORD_CERT_OK);
	accord_trust_free(t);
}

static void test_key_usage(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct certgen_cert nods = { 0 }, noku = { 0 };
	struct accord_cert_policy pol;
	struct accord_cert_verdict v;

	(void)state;
	make_leaf(&nods, "nods", &root, 601, "critical,keyAgreement", NULL);
	make_leaf(&noku, "noku", &root, 602, "", NULL);
	pol_at(&pol, T0);
	assert_int_equal(verify(t, nods.x509, NULL, &pol, &v),
			 ACCORD_CERT_KEY_USAGE);
	assert_non_null(strstr(v.detail, "digitalSignature"));
	assert_non_null(strstr(v.detail, "CN=nods"));
	/* no keyUsage extension at all: no restriction */
	assert_int_equal(verify(t, noku.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	pol.require_ku_ds = false;
	assert_int_equal(verify(t, nods.x509, NULL, &pol, &v), ACCORD_CERT_OK);
	certgen_cert_free(&noku);
	certgen_cert_free(&nods);
	accord_trust_free(t);
}

static void test_bad_signature(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	struct accord_cert_verdict v;
	unsigned char *der;
	const unsigned char *p;
	size_t len;
	X509 *x;

	(void)state;
	assert_int_equal(certgen_cert_der(leaf_root.x509, &der, &len), 0);
	/* the last byte is the end of the ECDSA signature's s */
	der[len - 1] ^= 0x01;
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_non_null(x);
	assert_int_equal(verify_at(t, x, NULL, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_BAD_SIGNATURE);
	assert_non_null(strstr(v.detail, "signature"));
	X509_free(x);
	free(der);
	accord_trust_free(t);
}

/* ---- building the set ---------------------------------------------------- */

static void test_crl_not_signed_by_a_ca(void **state)
{
	struct trust_in in = { 0 };
	struct accord_trust *t = NULL;
	struct accord_err err = { 0 };
	struct certgen_cert impostor = { 0 };
	X509_CRL *good = make_crl(&root, NULL, 0, -3600, DAY);
	X509_CRL *bad, *foreign = make_crl(&other_root, NULL, 0, -3600, DAY);

	(void)state;
	/* same name as the root, another key */
	make(&impostor, "/C=GB/O=Example/CN=Test Root", true, NULL, 1,
	     -10 * DAY, 3650 * DAY);
	bad = make_crl(&impostor, NULL, 0, -3600, DAY);

	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_crl(&in, good);
	in_crl(&in, bad);
	assert_int_equal(accord_trust_new(in.cas, in.ncas, in.crls, in.ncrls,
					  &t, &err), -EINVAL);
	assert_null(t);
	assert_int_equal(err.code, -EINVAL);
	assert_non_null(strstr(err.msg, "CRL 1"));
	assert_non_null(strstr(err.msg, "signature does not verify"));
	trust_in_free(&in);

	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_crl(&in, foreign);
	assert_int_equal(accord_trust_new(in.cas, in.ncas, in.crls, in.ncrls,
					  &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "CRL 0"));
	assert_non_null(strstr(err.msg, "no CA has its issuer name"));
	trust_in_free(&in);

	/* sanity: the good one alone is accepted */
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_crl(&in, good);
	t = build(&in);
	accord_trust_free(t);

	X509_CRL_free(foreign);
	X509_CRL_free(bad);
	X509_CRL_free(good);
	certgen_cert_free(&impostor);
}

static void test_crl_issuer_without_crlsign(void **state)
{
	struct trust_in in = { 0 };
	struct accord_trust *t = NULL;
	struct accord_err err = { 0 };
	struct certgen_cert ca = { 0 };
	struct certgen_opts o;
	X509_CRL *crl;

	(void)state;
	certgen_opts_init(&o);
	o.subject = "/CN=No CRL Signing";
	o.is_ca = true;
	o.base = T0;
	o.ku = "critical,keyCertSign";
	assert_int_equal(certgen_make(&o, NULL, &ca), 0);
	crl = make_crl(&ca, NULL, 0, -3600, DAY);
	in_ca(&in, &ca, ACCORD_CA_TRUST, "nocrlsign");
	in_crl(&in, crl);
	assert_int_equal(accord_trust_new(in.cas, in.ncas, in.crls, in.ncrls,
					  &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cRLSign"));
	trust_in_free(&in);
	X509_CRL_free(crl);
	certgen_cert_free(&ca);
}

static void test_non_ca_refused(void **state)
{
	struct trust_in in = { 0 };
	struct accord_trust *t = NULL;
	struct accord_err err = { 0 };

	(void)state;
	in_ca(&in, &root, ACCORD_CA_TRUST, "corp-root");
	in_ca(&in, &leaf_root, ACCORD_CA_TRUST, "alice-cert");
	assert_int_equal(accord_trust_new(in.cas, in.ncas, NULL, 0, &t, &err),
			 -EINVAL);
	assert_null(t);
	assert_non_null(strstr(err.msg, "'alice-cert'"));
	assert_non_null(strstr(err.msg, "not a CA"));
	assert_null(strstr(err.msg, "corp-root"));
	/* no label: the index */
	in.cas[1].label = NULL;
	assert_int_equal(accord_trust_new(in.cas, in.ncas, NULL, 0, &t, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "'#1'"));
	/* an unknown status */
	in.cas[1] = in.cas[0];
	in.cas[1].status = 7;
	in.cas[1].label = "odd";
	assert_int_equal(accord_trust_new(in.cas, in.ncas, NULL, 0, &t, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "'odd'"));
	trust_in_free(&in);
}

static void test_empty_set_and_args(void **state)
{
	struct accord_trust *t = NULL;
	struct accord_err err = { 0 };
	struct accord_cert_policy pol;
	struct accord_cert_verdict v;

	(void)state;
	assert_int_equal(accord_trust_new(NULL, 0, NULL, 0, &t, &err), 0);
	assert_non_null(t);
	pol_at(&pol, T0);
	assert_int_equal(verify(t, leaf_root.x509, NULL, &pol, &v),
			 ACCORD_CERT_UNKNOWN_CA);
	assert_int_equal(accord_trust_verify(NULL, leaf_root.x509, NULL, &pol,
					     &v), -EINVAL);
	assert_int_equal(accord_trust_verify(t, NULL, NULL, &pol, &v), -EINVAL);
	assert_int_equal(accord_trust_verify(t, leaf_root.x509, NULL, NULL,
					     &v), -EINVAL);
	assert_int_equal(accord_trust_verify(t, leaf_root.x509, NULL, &pol,
					     NULL), -EINVAL);
	pol.crl = 9;
	assert_int_equal(accord_trust_verify(t, leaf_root.x509, NULL, &pol,
					     &v), -EINVAL);
	assert_int_not_equal(v.reason, ACCORD_CERT_OK);
	accord_trust_free(t);
	accord_trust_free(NULL);
	assert_int_equal(accord_trust_new(NULL, 1, NULL, 0, &t, &err), -EINVAL);
	assert_int_equal(accord_trust_new(NULL, 0, NULL, 0, NULL, &err),
			 -EINVAL);
}

static void test_too_many_intermediates(void **state)
{
	struct accord_trust *t = trust1(&root, ACCORD_CA_TRUST);
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct accord_cert_verdict v;
	int i;

	(void)state;
	for (i = 0; i < 33; i++)
		assert_true(sk_X509_push(sk, inter.x509) > 0);
	assert_int_equal(verify_at(t, leaf_inter.x509, sk, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_INVALID);
	sk_X509_pop(sk);
	assert_int_equal(verify_at(t, leaf_inter.x509, sk, ACCORD_CRL_AUTO, &v),
			 ACCORD_CERT_OK);
	sk_X509_free(sk);
	accord_trust_free(t);
}

/* ---- loading ------------------------------------------------------------- */

static char *pem_of(X509 *const *xs, size_t n, const char *lead, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	long l;
	size_t i;

	assert_non_null(b);
	if (lead)
		BIO_puts(b, lead);
	for (i = 0; i < n; i++)
		assert_true(PEM_write_bio_X509(b, xs[i]));
	l = BIO_get_mem_data(b, &p);
	out = malloc((size_t)l + 1);
	assert_non_null(out);
	memcpy(out, p, (size_t)l);
	out[l] = '\0';
	*len = (size_t)l;
	BIO_free(b);
	return out;
}

static void test_load(void **state)
{
	X509 *const three[] = { leaf_inter.x509, inter.x509, root.x509 };
	struct accord_err err = { 0 };
	STACK_OF(X509) *sk = NULL;
	unsigned char *der;
	size_t len, plen;
	char *pem;
	X509 *x;

	(void)state;
	/* DER */
	assert_int_equal(certgen_cert_der(leaf_root.x509, &der, &len), 0);
	x = accord_cert_load(der, len, &err);
	assert_non_null(x);
	assert_int_equal(X509_cmp(x, leaf_root.x509), 0);
	X509_free(x);
	assert_int_equal(accord_cert_load_all(der, len, &sk, &err), 0);
	assert_int_equal(sk_X509_num(sk), 1);
	sk_X509_pop_free(sk, X509_free);
	free(der);

	/* PEM, text before it, several blocks: the first for load */
	pem = pem_of(three, 3, "Subject: whatever\n", &plen);
	x = accord_cert_load((unsigned char *)pem, plen, &err);
	assert_non_null(x);
	assert_int_equal(X509_cmp(x, leaf_inter.x509), 0);
	X509_free(x);
	assert_int_equal(accord_cert_load_all((unsigned char *)pem, plen, &sk,
					      &err), 0);
	assert_int_equal(sk_X509_num(sk), 3);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), leaf_inter.x509), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), inter.x509), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 2), root.x509), 0);
	sk_X509_pop_free(sk, X509_free);
	free(pem);
}

static void test_load_limits(void **state)
{
	X509 *many[65];
	struct accord_err err = { 0 };
	STACK_OF(X509) *sk = NULL;
	unsigned char *big;
	size_t i, plen;
	char *pem;

	(void)state;
	for (i = 0; i < 65; i++)
		many[i] = root.x509;
	pem = pem_of(many, 65, NULL, &plen);
	assert_int_equal(accord_cert_load_all((unsigned char *)pem, plen, &sk,
					      &err), -E2BIG);
	assert_null(sk);
	free(pem);
	pem = pem_of(many, 64, NULL, &plen);
	assert_int_equal(accord_cert_load_all((unsigned char *)pem, plen, &sk,
					      &err), 0);
	assert_int_equal(sk_X509_num(sk), 64);
	sk_X509_pop_free(sk, X509_free);
	free(pem);

	/* over 1 MiB: refused before parsing */
	big = calloc(1, 1024 * 1024 + 1);
	assert_non_null(big);
	big[0] = 0x30;
	assert_null(accord_cert_load(big, 1024 * 1024 + 1, &err));
	assert_int_equal(err.code, -EFBIG);
	assert_int_equal(accord_cert_load_all(big, 1024 * 1024 + 1, &sk, &err),
			 -EFBIG);
	free(big);
}

static void test_malformed(void **state)
{
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	static const char nopem[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
				    "-----END PRIVATE KEY-----\n";
	static const char badpem[] = "-----BEGIN CERTIFICATE-----\n!!!!\n"
				     "-----END CERTIFICATE-----\n";
	struct accord_err err = { 0 };
	struct accord_ca_in ca = { 0 };
	struct accord_crl_in crl = { 0 };
	struct accord_trust *t = NULL;
	STACK_OF(X509) *sk = NULL;
	unsigned char *der, *longer;
	size_t len;

	(void)state;
	assert_null(accord_cert_load(junk, sizeof(junk), &err));
	assert_int_equal(err.code, -EINVAL);
	assert_true(err.msg[0] != '\0');
	assert_null(accord_cert_load(NULL, 0, &err));
	assert_int_equal(err.code, -EINVAL);
	assert_null(accord_cert_load((const unsigned char *)"hello", 5, &err));
	assert_int_equal(err.code, -EINVAL);
	assert_null(accord_cert_load((const unsigned char *)badpem,
				     sizeof(badpem) - 1, &err));
	assert_int_equal(accord_cert_load_all((const unsigned char *)nopem,
					      sizeof(nopem) - 1, &sk, &err),
			 -EINVAL);
	assert_int_equal(accord_cert_load_all((const unsigned char *)badpem,
					      sizeof(badpem) - 1, &sk, &err),
			 -EINVAL);
	assert_null(sk);

	/* truncated and extended DER */
	assert_int_equal(certgen_cert_der(root.x509, &der, &len), 0);
	assert_null(accord_cert_load(der, len - 1, &err));
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_null(accord_cert_load(longer, len + 1, &err));
	assert_int_equal(err.code, -EINVAL);

	/* in a trust set: named by label / index */
	ca = (struct accord_ca_in){ .der = der, .len = len - 1,
				    .label = "broken-ca" };
	assert_int_equal(accord_trust_new(&ca, 1, NULL, 0, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'broken-ca'"));
	ca.len = len;
	crl = (struct accord_crl_in){ .der = junk, .len = sizeof(junk) };
	assert_int_equal(accord_trust_new(&ca, 1, &crl, 1, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "CRL 0"));
	assert_null(t);
	free(longer);
	free(der);
}

static void test_error_queue_left_alone(void **state)
{
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	struct accord_err err = { 0 };
	struct accord_ca_in ca = { .der = junk, .len = sizeof(junk) };
	struct accord_trust *t = NULL;
	STACK_OF(X509) *sk = NULL;
	struct accord_cert_verdict v;

	(void)state;
	ERR_clear_error();
	assert_null(accord_cert_load(junk, sizeof(junk), &err));
	assert_int_equal(accord_cert_load_all((const unsigned char *)"x", 1,
					      &sk, &err), -EINVAL);
	assert_int_equal(accord_trust_new(&ca, 1, NULL, 0, &t, &err), -EINVAL);
	t = trust1(&other_root, ACCORD_CA_TRUST);
	assert_int_equal(verify_at(t, leaf_root.x509, NULL, ACCORD_CRL_REQUIRE,
				   &v), ACCORD_CERT_UNKNOWN_CA);
	assert_int_equal(ERR_peek_error(), 0);
	accord_trust_free(t);
}

static void test_sha256(void **state)
{
	unsigned char got[32], want[32], *der;
	unsigned int n = 0;
	size_t len;

	(void)state;
	assert_int_equal(accord_cert_sha256(leaf_root.x509, got), 0);
	assert_int_equal(certgen_cert_der(leaf_root.x509, &der, &len), 0);
	assert_true(EVP_Digest(der, len, want, &n, EVP_sha256(), NULL));
	assert_int_equal(n, 32);
	assert_memory_equal(got, want, 32);
	assert_int_equal(accord_cert_sha256(NULL, got), -EINVAL);
	free(der);
}

static void test_reason_names(void **state)
{
	static const char *const want[] = {
		"ok", "malformed", "expired", "not_yet_valid", "unknown_ca",
		"ca_notrust", "revoked", "crl_missing", "bad_signature",
		"key_usage", "ext_key_usage", "invalid",
	};
	size_t i, j;

	(void)state;
	assert_int_equal(ACCORD_CERT_INVALID + 1,
			 sizeof(want) / sizeof(want[0]));
	for (i = 0; i <= ACCORD_CERT_INVALID; i++) {
		assert_string_equal(accord_cert_reason_name(i), want[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(accord_cert_reason_name(i),
						accord_cert_reason_name(j));
	}
	assert_string_equal(accord_cert_reason_name(ACCORD_CERT_INVALID + 1),
			    "unknown");
	assert_string_equal(accord_cert_reason_name((enum accord_cert_reason)-1),
			    "unknown");
}

static void test_policy_default(void **state)
{
	struct accord_cert_policy pol;

	(void)state;
	memset(&pol, 0x5a, sizeof(pol));
	accord_cert_policy_default(&pol);
	assert_int_equal(pol.crl, ACCORD_CRL_AUTO);
	assert_true(pol.require_ku_ds);
	assert_string_equal(pol.eku, "clientAuth");
	assert_int_equal(pol.now, 0);
}

/* ---- threads ------------------------------------------------------------- */

struct thread_arg {
	const struct accord_trust *t;
	X509 *good, *revoked;
	int failures;
};

static void *verify_thread(void *p)
{
	struct thread_arg *a = p;
	struct accord_cert_policy pol;
	struct accord_cert_verdict v;
	int i;

	pol_at(&pol, T0);
	for (i = 0; i < 200; i++) {
		X509 *x = (i & 1) ? a->revoked : a->good;
		enum accord_cert_reason want = (i & 1) ? ACCORD_CERT_REVOKED
						       : ACCORD_CERT_OK;

		if (accord_trust_verify(a->t, x, NULL, &pol, &v) != 0 ||
		    v.reason != want || v.anchor != 0)
			a->failures++;
	}
	return NULL;
}

static void test_shared_between_threads(void **state)
{
	static const uint64_t rev[] = { 101 };
	struct trust_in in = { 0 };
	struct accord_trust *t;
	struct certgen_cert ok = { 0 };
	X509_CRL *crl = make_crl(&root, rev, 1, -3600, 7 * DAY);
	struct thread_arg args[4];
	pthread_t th[4];
	int i;

	(void)state;
	make_leaf(&ok, "threads", &root, 103, NULL, NULL);
	in_ca(&in, &root, ACCORD_CA_TRUST, "root");
	in_crl(&in, crl);
	t = build(&in);
	for (i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .t = t, .good = ok.x509,
					       .revoked = leaf_root.x509 };
		assert_int_equal(pthread_create(&th[i], NULL, verify_thread,
						&args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
	accord_trust_free(t);
	X509_CRL_free(crl);
	certgen_cert_free(&ok);
}

/* ---- certgen itself ------------------------------------------------------ */

static void test_certgen_names(void **state)
{
	static const struct certgen_rdn rdns[] = {
		{ "C", "GB", -1, V_ASN1_PRINTABLESTRING, 0 },
		{ "O", "Example", -1, 0, 1 },
		{ "CN", "a", -1, 0, 2 },
		{ "UID", "b", -1, 0, 2 },
	};
	struct certgen_cert c = { 0 };
	struct certgen_opts o;
	X509_NAME *n;
	const X509_NAME_ENTRY *e;

	(void)state;
	n = certgen_name_parse("/C=GB/O=Ex\\/ample/CN=a+UID=b");
	assert_non_null(n);
	assert_int_equal(X509_NAME_entry_count(n), 4);
	e = X509_NAME_get_entry(n, 1);
	assert_int_equal(ASN1_STRING_length(X509_NAME_ENTRY_get_data(e)), 8);
	/* CN and UID share one RDN, the last */
	assert_int_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 2)),
			 X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 3)));
	assert_int_not_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 1)),
			     X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 2)));
	X509_NAME_free(n);
	assert_null(certgen_name_parse("C=GB"));
	assert_null(certgen_name_parse("/C"));
	assert_null(certgen_name_parse("/NOSUCHATTR=x"));

	certgen_opts_init(&o);
	o.rdns = rdns;
	o.nrdns = 4;
	o.base = T0;
	assert_int_equal(certgen_make(&o, &root, &c), 0);
	n = X509_get_subject_name(c.x509);
	assert_int_equal(X509_NAME_entry_count(n), 4);
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
				 X509_NAME_get_entry(n, 0))),
			 V_ASN1_PRINTABLESTRING);
	assert_int_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 2)),
			 X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 3)));
	certgen_cert_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_leaf_root),
		cmocka_unit_test(test_leaf_under_untrusted_intermediate),
		cmocka_unit_test(test_intermediate_as_anchor),
		cmocka_unit_test(test_hightrust_anchor),
		cmocka_unit_test(test_unknown_ca),
		cmocka_unit_test(test_notrust_root),
		cmocka_unit_test(test_same_ca_twice),
		cmocka_unit_test(test_notrust_intermediate),
		cmocka_unit_test(test_leaf_is_ca_of_set),
		cmocka_unit_test(test_expired_leaf),
		cmocka_unit_test(test_not_yet_valid_leaf),
		cmocka_unit_test(test_expired_intermediate),
		cmocka_unit_test(test_explicit_now),
		cmocka_unit_test(test_revoked_auto_and_require),
		cmocka_unit_test(test_require_without_crl),
		cmocka_unit_test(test_require_chain_crls),
		cmocka_unit_test(test_expired_crl),
		cmocka_unit_test(test_eku),
		cmocka_unit_test(test_eku_bad_policy),
		cmocka_unit_test(test_key_usage),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_crl_not_signed_by_a_ca),
		cmocka_unit_test(test_crl_issuer_without_crlsign),
		cmocka_unit_test(test_non_ca_refused),
		cmocka_unit_test(test_empty_set_and_args),
		cmocka_unit_test(test_too_many_intermediates),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_error_queue_left_alone),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_policy_default),
		cmocka_unit_test(test_shared_between_threads),
		cmocka_unit_test(test_certgen_names),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
