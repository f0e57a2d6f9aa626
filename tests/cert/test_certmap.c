/* SPDX-License-Identifier: MIT */
/*
 * Certificate maps (common/certmap.c, common/certmap_resolve.c): RACF's
 * search order probe by probe, NOTRUST at every level without fall-through,
 * registered certificates above filters, MULTIID criteria, duplicates and
 * refused adds that change nothing, exact versus LDAP matching, the
 * trailing-dot compatibility, the snapshot round trip, user deletion,
 * damaged sections.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <accord/certmap.h>
#include <accord/certverify.h>
#include <accord/state.h>

#include "certgen.h"
#include "state_priv.h"

static struct certgen_cert ca, ca2;

static struct accord_state *new_state(void)
{
	static const char *const users[] = { "alice", "bob", "carol", "dave", "erin",
					     "frank", "ops", "adcdd" };
	struct accord_range u = { 10000, 60000 }, g = { 10000, 60000 };
	struct accord_defaults def = { "/home", "/bin/sh" };
	struct accord_state *st = accord_state_new(&u, &g);
	struct accord_err e = { 0 };
	size_t i;

	assert_non_null(st);
	accord_state_set_actor(st, 1790000000, "test");
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		struct accord_user_spec s = { .name = users[i] };

		assert_int_equal(accord_user_add(st, &s, &def, &e), 0);
	}
	return st;
}

static unsigned char *der_of(X509 *x, size_t *len)
{
	unsigned char *p = NULL, *out;
	int l = i2d_X509(x, &p);

	assert_true(l > 0);
	out = malloc((size_t)l);
	memcpy(out, p, (size_t)l);
	OPENSSL_free(p);
	*len = (size_t)l;
	return out;
}

static void add_ca(struct accord_state *st, struct certgen_cert *c, const char *label,
		   uint32_t status)
{
	struct accord_err e = { 0 };
	size_t len;
	unsigned char *der = der_of(c->x509, &len);

	assert_int_equal(accord_ca_add(st, der, len, label, status, &e), 0);
	free(der);
}

static X509 *leaf(const char *subject, const struct certgen_cert *issuer, uint64_t serial)
{
	struct certgen_opts o;
	struct certgen_cert c = { 0 };

	certgen_opts_init(&o);
	o.subject = subject;
	o.serial = serial;
	assert_int_equal(certgen_make(&o, issuer, &c), 0);
	EVP_PKEY_free(c.key);
	return c.x509;
}

static int add_map(struct accord_state *st, const char *user, const char *sdn,
		   const char *idn, const char *label, bool notrust, struct accord_err *e)
{
	struct accord_certmap_spec s = { label, user, false, NULL, sdn, idn, notrust, NULL, 0 };

	return accord_certmap_add(st, &s, NULL, e);
}

struct probes {
	char what[64][32];
	bool hit[64];
	int n;
};

static void on_probe(const struct accord_map_probe *p, void *ctx)
{
	struct probes *pr = ctx;

	if (pr->n < 64) {
		snprintf(pr->what[pr->n], sizeof(pr->what[0]), "%s", p->what);
		pr->hit[pr->n] = p->hit;
	}
	pr->n++;
}

/* Serializes st and resolves cert against it. */
static struct accord_map_outcome resolve_ctx(struct accord_state *st, X509 *cert,
					     const struct accord_certmap_ctx *ctx,
					     struct probes *pr)
{
	struct accord_certmap_ctx dflt = { .service = "sshd", .host = "web1" };
	struct accord_map_outcome out;
	struct accord_certnames n;
	struct accord_certdb db;
	struct accord_err e = { 0 };
	unsigned char *blob = NULL;
	size_t len = 0;

	assert_int_equal(state_certs_serialize(st, 42, &blob, &len, &e), 0);
	assert_int_equal(accord_certdb_open(blob, len, &db, &e), 0);
	assert_int_equal(accord_certnames_from_x509(cert, &n, &e), 0);
	assert_int_equal(accord_certmap_resolve(&db, &n, ctx ? ctx : &dflt, pr ? on_probe : NULL,
						pr, &out), 0);
	accord_certnames_clear(&n);
	free(blob);
	return out;
}

static struct accord_map_outcome resolve(struct accord_state *st, X509 *cert)
{
	return resolve_ctx(st, cert, NULL, NULL);
}

static int setup(void **state)
{
	struct certgen_opts o;

	(void)state;
	certgen_opts_init(&o);
	o.subject = "/C=GB/O=Example/CN=Test CA";
	o.is_ca = true;
	if (certgen_make(&o, NULL, &ca))
		return -1;
	certgen_opts_init(&o);
	o.subject = "/C=US/O=Other/CN=Other CA";
	o.is_ca = true;
	return certgen_make(&o, NULL, &ca2);
}

static int teardown(void **state)
{
	(void)state;
	certgen_cert_free(&ca);
	certgen_cert_free(&ca2);
	return 0;
}

#define ISSUER "CN=Test CA,O=Example,C=GB"

/* RACF's six steps: each map is found in its turn, most specific first. */
static void test_search_order(void **state)
{
	static const struct {
		const char *user, *sdn, *idn, *label;
		int step;
	} maps[] = {
		{ "alice", "CN=u1,OU=Dev,O=Example,C=GB", ISSUER, "s1", 1 },
		{ "bob", "OU=Dev,O=Example,C=GB", ISSUER, "s2", 2 },
		{ "carol", "CN=u1,OU=Dev,O=Example,C=GB", NULL, "s3", 3 },
		{ "dave", "O=Example,C=GB", NULL, "s4", 4 },
		{ "erin", NULL, ISSUER, "s5", 5 },
		{ "frank", NULL, "C=GB", "s6", 6 },
	};
	struct accord_state *st = new_state();
	struct accord_err e = { 0 };
	X509 *x = leaf("/C=GB/O=Example/OU=Dev/CN=u1", &ca, 7);
	struct accord_map_outcome out;
	struct probes pr = { 0 };
	size_t i;

	(void)state;
	add_ca(st, &ca, "root", ACCORD_CA_TRUST);
	for (i = 0; i < 6; i++)
		assert_int_equal(add_map(st, maps[i].user, maps[i].sdn, maps[i].idn, maps[i].label,
					 false, &e), 0);
	for (i = 0; i < 6; i++) {
		out = resolve(st, x);
		assert_int_equal(out.result, ACCORD_MAPPED);
		assert_int_equal(out.tier, 2);
		assert_int_equal(out.step, maps[i].step);
		assert_string_equal(out.user, maps[i].user);
		assert_string_equal(out.label, maps[i].label);
		assert_int_equal(accord_certmap_del(st, maps[i].label, maps[i].user, &e), 0);
	}
	/* nothing left: every probe misses, 2 registered + at most 2n+m */
	out = resolve_ctx(st, x, NULL, &pr);
	assert_int_equal(out.result, ACCORD_MAP_NO_MATCH);
	assert_int_equal(out.probes, pr.n);
	assert_int_equal(pr.n, 2 + 2 * 4 + 3);
	assert_string_equal(pr.what[0], "sha256");
	assert_string_equal(pr.what[1], "issuer+serial");
	assert_string_equal(pr.what[2], "subject+issuer");
	assert_string_equal(pr.what[3], "partial subject+issuer");
	assert_string_equal(pr.what[5], "partial subject+issuer");
	assert_string_equal(pr.what[6], "subject");
	assert_string_equal(pr.what[7], "partial subject");
	assert_string_equal(pr.what[10], "issuer");
	assert_string_equal(pr.what[12], "partial issuer");
	for (i = 0; i < (size_t)pr.n; i++)
		assert_false(pr.hit[i]);
	X509_free(x);
	accord_state_free(st);
}

/* NOTRUST on the most specific match denies; nothing less specific is
 * tried (RACF's exception carve-out). */
static void test_notrust_every_level(void **state)
{
	static const char *const sdns[] = { "CN=u1,OU=Dev,O=Example,C=GB",
					    "OU=Dev,O=Example,C=GB", NULL };
	X509 *x = leaf("/C=GB/O=Example/OU=Dev/CN=u1", &ca, 8);
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct accord_state *st = new_state();
		struct accord_err e = { 0 };
		struct accord_map_outcome out;

		add_ca(st, &ca, "root", ACCORD_CA_TRUST);
		/* a broad TRUST map that would match */
		assert_int_equal(add_map(st, "ops", NULL, "C=GB", "broad", false, &e), 0);
		if (sdns[i])
			assert_int_equal(add_map(st, "bob", sdns[i], NULL, "deny", true, &e), 0);
		else
			assert_int_equal(add_map(st, "bob", NULL, ISSUER, "deny", true, &e), 0);
		out = resolve(st, x);
		assert_int_equal(out.result, ACCORD_MAP_DENIED);
		assert_string_equal(out.label, "deny");
		assert_string_equal(out.user, "");
		/* alter to TRUST: now it maps */
		assert_int_equal(accord_certmap_alter(st, "deny", "bob", NULL, ACCORD_MAP_TRUST, &e),
				 0);
		out = resolve(st, x);
		assert_int_equal(out.result, ACCORD_MAPPED);
		assert_string_equal(out.user, "bob");
		accord_state_free(st);
	}
	X509_free(x);
}

static void test_registered_first(void **state)
{
	struct accord_state *st = new_state();
	struct accord_err e = { 0 };
	X509 *x = leaf("/C=GB/O=Example/CN=u2", &ca, 99);
	X509 *other = leaf("/C=GB/O=Example/CN=u2", &ca, 100); /* same subject */
	struct accord_map_outcome out;
	unsigned char *der;
	size_t len;

	(void)state;
	add_ca(st, &ca, "root", ACCORD_CA_TRUST);
	assert_int_equal(add_map(st, "alice", "CN=u2,O=Example,C=GB", ISSUER, "full", false, &e),
			 0);
	der = der_of(x, &len);
	assert_int_equal(accord_certreg_add(st, der, len, "bob", "card", false, &e), 0);
	/* the same certificate again: refused, naming the owner */
	assert_int_equal(accord_certreg_add(st, der, len, "carol", NULL, false, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "bob"));
	out = resolve(st, x);
	assert_int_equal(out.result, ACCORD_MAPPED);
	assert_int_equal(out.tier, 1);
	assert_string_equal(out.user, "bob");
	assert_string_equal(out.label, "card");
	/* another certificate with the same subject still goes by the filter */
	out = resolve(st, other);
	assert_int_equal(out.tier, 2);
	assert_string_equal(out.user, "alice");
	/* a NOTRUST registration denies even though a filter would map */
	assert_int_equal(accord_certmap_alter(st, "card", "bob", NULL, ACCORD_MAP_NOTRUST, &e), 0);
	out = resolve(st, x);
	assert_int_equal(out.result, ACCORD_MAP_DENIED);
	assert_int_equal(out.tier, 1);
	free(der);
	X509_free(x);
	X509_free(other);
	accord_state_free(st);
}

static void test_criteria(void **state)
{
	struct accord_state *st = new_state();
	struct accord_certmap_spec s = { "staff", NULL, true, "SERVICE=&SERVICE.HOST=&HOST",
					 "O=Example,C=GB", NULL, false, NULL, 0 };
	struct accord_certmap_ctx ctx = { .service = "sshd", .host = "web1" };
	struct accord_err e = { 0 };
	X509 *x = leaf("/C=GB/O=Example/CN=u3", &ca, 9);
	struct accord_map_outcome out;
	char buf[256];

	(void)state;
	assert_int_equal(accord_certmap_add(st, &s, NULL, &e), 0);
	assert_int_equal(accord_certcrit_add(st, "SERVICE=sshd.HOST=*", "ops", &e), 0);
	assert_int_equal(accord_certcrit_add(st, "SERVICE=sshd.HOST=web1", "alice", &e), 0);
	assert_int_equal(accord_certcrit_add(st, "SERVICE=sshd", "carol", &e), 0);
	assert_int_equal(accord_certcrit_add(st, "SERVICE=sshd.HOST=we*", "bob", &e), 0);
	out = resolve_ctx(st, x, &ctx, NULL);
	assert_int_equal(out.result, ACCORD_MAPPED);
	assert_string_equal(out.user, "alice"); /* no generic component */
	assert_string_equal(out.criteria, "SERVICE=sshd.HOST=web1");
	ctx.host = "web2";
	out = resolve_ctx(st, x, &ctx, NULL);
	assert_string_equal(out.user, "bob"); /* one generic, longer literal prefix */
	ctx.host = "db1";
	out = resolve_ctx(st, x, &ctx, NULL);
	assert_string_equal(out.user, "ops");
	ctx.host = NULL; /* a missing variable drops its component (RACF) */
	out = resolve_ctx(st, x, &ctx, NULL);
	assert_string_equal(out.criteria, "SERVICE=sshd");
	assert_string_equal(out.user, "carol");
	ctx.service = "login";
	ctx.host = "web1";
	out = resolve_ctx(st, x, &ctx, NULL);
	assert_int_equal(out.result, ACCORD_MAP_NO_CRITERIA);
	assert_string_equal(out.user, "");
	/* RACF's own variable names are aliases */
	assert_int_equal(accord_criteria_expand("APPLID=&APPLID.SYSID=&SYSID", &ctx, buf,
						sizeof(buf)), (int)strlen("APPLID=login.SYSID=web1"));
	assert_string_equal(buf, "APPLID=login.SYSID=web1");
	/* bad criteria names are refused */
	assert_int_equal(accord_certcrit_add(st, "SERVICE", "ops", &e), -EINVAL);
	assert_int_equal(accord_certcrit_add(st, "SERVICE=a*b", "ops", &e), -EINVAL);
	assert_int_equal(accord_certcrit_add(st, "SERVICE=x", "nobody", &e), -ENOENT);
	/* values keep their dots: a host name or an address */
	assert_int_equal(accord_certcrit_add(st, "SERVICE=sshd.HOST=db1.example.com", "dave", &e), 0);
	ctx.service = "sshd";
	ctx.host = "db1.example.com";
	out = resolve_ctx(st, x, &ctx, NULL);
	assert_string_equal(out.user, "dave");
	/* MULTIID without criteria, criteria without MULTIID */
	s.criteria = NULL;
	s.label = "x1";
	assert_int_equal(accord_certmap_add(st, &s, NULL, &e), -EINVAL);
	X509_free(x);
	accord_state_free(st);
}

/* Refused adds leave the state as it was (the serialized section is
 * byte-for-byte the same). */
static void test_duplicates_and_refusals(void **state)
{
	struct accord_state *st = new_state();
	struct accord_err e = { 0 };
	unsigned char *before = NULL, *after = NULL;
	size_t lb = 0, la = 0;

	(void)state;
	add_ca(st, &ca, "root", ACCORD_CA_TRUST);
	assert_int_equal(add_map(st, "adcdd", "CN=adcdd.O=cpwebuser.C=GB", NULL, "adcdd", false,
				 &e), 0);
	assert_int_equal(state_certs_serialize(st, 1, &before, &lb, &e), 0);
	/* the same filter in RFC 4514, other case and spacing: a duplicate */
	assert_int_equal(add_map(st, "bob", "cn=ADCDD, o=CPWebUser, c=gb", NULL, NULL, false, &e),
			 -EEXIST);
	assert_non_null(strstr(e.msg, "adcdd"));
	/* duplicate label for the same user */
	assert_int_equal(add_map(st, "adcdd", "CN=other,O=cpwebuser,C=GB", NULL, "adcdd", false,
				 &e), -EEXIST);
	/* no filter; unknown user; bad filter; label too long */
	assert_int_equal(add_map(st, "bob", NULL, NULL, NULL, false, &e), -EINVAL);
	assert_int_equal(add_map(st, "nobody", "CN=x,C=GB", NULL, NULL, false, &e), -ENOENT);
	assert_int_equal(add_map(st, "bob", "XX=y", NULL, NULL, false, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "subject filter"));
	assert_int_equal(add_map(st, "bob", "CN=x,C=GB", NULL,
				 "a-label-that-is-longer-than-32-chars", false, &e), -EINVAL);
	/* subject + partial issuer: never searched, refused (RACF IRRD146I's point) */
	assert_int_equal(add_map(st, "bob", "CN=x,C=GB", "O=Example,C=GB", NULL, false, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "full name of a CA"));
	/* deleting what is not there */
	assert_int_equal(accord_certmap_del(st, "nope", NULL, &e), -ENOENT);
	assert_int_equal(state_certs_serialize(st, 1, &after, &la, &e), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(after, before, la);
	free(before);
	free(after);
	accord_state_free(st);
}

/* exact mode (RACF-strict) tells case apart; the LDAP default does not. */
static void test_exact_and_dot(void **state)
{
	struct accord_state *st = new_state();
	struct accord_certmap_ctx ctx = { .service = "sshd", .host = "h" };
	struct accord_err e = { 0 };
	X509 *x = leaf("/C=GB/O=Example Inc./CN=u4", &ca, 10);
	X509 *y = leaf("/C=GB/O=example/CN=u5", &ca, 11);
	struct accord_map_outcome out;
	struct accord_certmap_warn w = { 0 };
	struct accord_certmap_spec s = { "dot", "alice", false, NULL, "O=Example Inc.C=GB", NULL,
					 false, NULL, 0 };

	(void)state;
	/* RACF's one-dot rule: "Example Inc" + separator; "Example Inc." matches too */
	assert_int_equal(accord_certmap_add(st, &s, &w, &e), 0);
	out = resolve_ctx(st, x, &ctx, NULL);
	assert_int_equal(out.result, ACCORD_MAPPED);
	assert_string_equal(out.user, "alice");
	{
		/* explain mode says the single-dot rule was needed */
		struct probes pr = { 0 };

		out = resolve_ctx(st, x, &ctx, &pr);
		assert_true(out.dot_compat);
	}
	assert_int_equal(add_map(st, "bob", "O=Example,C=GB", NULL, "case", false, &e), 0);
	out = resolve_ctx(st, y, &ctx, NULL);
	assert_string_equal(out.user, "bob");
	ctx.mode = ACCORD_MATCH_EXACT;
	out = resolve_ctx(st, y, &ctx, NULL);
	assert_int_equal(out.result, ACCORD_MAP_NO_MATCH);
	X509_free(x);
	X509_free(y);
	accord_state_free(st);
}

/* --from-cert: RACF's starting points. */
static void test_from_cert(void **state)
{
	struct accord_state *st = new_state();
	struct accord_err e = { 0 };
	X509 *x = leaf("/C=GB/O=BobsMart/OU=BobsAccountingDept/CN=u6", &ca, 12);
	X509 *y = leaf("/C=GB/O=BobsMart/OU=BobsAccountingDept/CN=u7", &ca, 13);
	struct accord_certmap_spec s = { "acc", "carol", false, NULL, "OU=BobsAcc", NULL, false,
					 NULL, 0 };
	struct accord_map_outcome out;
	size_t len;

	(void)state;
	s.from_cert = der_of(x, &len);
	s.from_cert_len = len;
	assert_int_equal(accord_certmap_add(st, &s, NULL, &e), 0);
	out = resolve(st, y); /* another CN in the same department */
	assert_int_equal(out.result, ACCORD_MAPPED);
	assert_string_equal(out.user, "carol");
	assert_int_equal(out.step, 4);
	/* a starting point the certificate does not have */
	s.label = "x";
	s.sdn = "OU=Sales";
	assert_int_equal(accord_certmap_add(st, &s, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "IRRD141I"));
	/* subject with a partial issuer */
	s.sdn = "CN=u6";
	s.idn = "O=Example";
	assert_int_equal(accord_certmap_add(st, &s, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "IRRD146I"));
	free((unsigned char *)(uintptr_t)s.from_cert);
	X509_free(x);
	X509_free(y);
	accord_state_free(st);
}

/* Through a real snapshot: build, open, load into a new state; the same
 * answers, and the loaded objects are journaled as unchanged. */
static void test_snapshot_round_trip(void **state)
{
	struct accord_state *st = new_state(), *st2 = NULL;
	struct accord_err e = { 0 };
	struct accord_snapshot snap;
	unsigned char uuid[16] = { 1 }, *buf = NULL, *b1 = NULL, *b2 = NULL, *der;
	size_t len, l1, l2, dl;
	accord_snap_why why = NULL;
	X509 *x = leaf("/C=GB/O=Example/CN=u8", &ca, 14);
	struct accord_map_outcome out;

	(void)state;
	add_ca(st, &ca, "root", ACCORD_CA_TRUST);
	add_ca(st, &ca2, "other", ACCORD_CA_NOTRUST);
	assert_int_equal(add_map(st, "alice", "CN=u8,O=Example,C=GB", ISSUER, NULL, false, &e), 0);
	assert_int_equal(accord_certcrit_add(st, "SERVICE=sshd", "bob", &e), 0);
	der = der_of(x, &dl);
	assert_int_equal(accord_certreg_add(st, der, dl, "carol", NULL, true, &e), 0);
	assert_int_equal(accord_snapshot_build(st, 2, uuid, 1790000000, &buf, &len, &e), 0);
	assert_int_equal(accord_snapshot_open_mem(&snap, buf, len, &why), 0);
	assert_int_equal(accord_state_from_snapshot(&snap, &st2, &e), 0);
	assert_int_equal(accord_state_ca_slots(st2), 2);
	assert_int_equal(accord_state_ca_at(st2, 1)->status, ACCORD_CA_NOTRUST);
	/* a registration keeps its certificate (restore registers it again) */
	assert_int_equal(accord_state_certreg_at(st2, 0)->der_len, dl);
	assert_memory_equal(accord_state_certreg_at(st2, 0)->der, der, dl);
	assert_int_equal(state_certs_serialize(st, 5, &b1, &l1, &e), 0);
	assert_int_equal(state_certs_serialize(st2, 5, &b2, &l2, &e), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	out = resolve(st2, x);
	assert_int_equal(out.result, ACCORD_MAP_DENIED); /* the NOTRUST registration */
	/* labels continue after the highest generated one */
	assert_int_equal(add_map(st2, "alice", "CN=zz,O=Example,C=GB", NULL, NULL, false, &e), 0);
	/* deleting a user deletes its maps and criteria (RACF DELUSER) */
	assert_int_equal(accord_user_del(st2, "alice", &e), 0);
	assert_int_equal(accord_user_del(st2, "bob", &e), 0);
	out = resolve(st2, x);
	assert_int_equal(out.result, ACCORD_MAP_DENIED);
	assert_int_equal(accord_user_del(st2, "carol", &e), 0);
	out = resolve(st2, x);
	assert_int_equal(out.result, ACCORD_MAP_NO_MATCH);
	free(der);
	free(b1);
	free(b2);
	X509_free(x);
	accord_state_free(st2);
	accord_snapshot_unmap(&snap);
	free(buf);
	accord_state_free(st);
}

/* Every byte of a section flipped: open or resolve fails cleanly or
 * answers; never reads outside it (ASan and valgrind runs). */
static void test_damaged_section(void **state)
{
	struct accord_state *st = new_state();
	struct accord_err e = { 0 };
	struct accord_certnames n;
	unsigned char *blob = NULL, *copy;
	size_t len = 0, i;
	X509 *x = leaf("/C=GB/O=Example/CN=u9", &ca, 15);
	struct accord_certmap_ctx ctx = { .service = "sshd", .host = "h" };

	(void)state;
	add_ca(st, &ca, "root", ACCORD_CA_TRUST);
	assert_int_equal(add_map(st, "alice", "CN=u9,O=Example,C=GB", NULL, "m", false, &e), 0);
	assert_int_equal(accord_certcrit_add(st, "SERVICE=sshd", "bob", &e), 0);
	assert_int_equal(state_certs_serialize(st, 3, &blob, &len, &e), 0);
	assert_int_equal(accord_certnames_from_x509(x, &n, &e), 0);
	copy = malloc(len);
	for (i = 0; i < len; i++) {
		struct accord_certdb db;
		struct accord_map_outcome out;
		size_t cut;

		memcpy(copy, blob, len);
		copy[i] ^= 0x5a;
		if (accord_certdb_open(copy, len, &db, NULL) == 0)
			(void)accord_certmap_resolve(&db, &n, &ctx, NULL, NULL, &out);
		cut = i; /* every truncation too */
		if (accord_certdb_open(blob, cut, &db, NULL) == 0)
			(void)accord_certmap_resolve(&db, &n, &ctx, NULL, NULL, &out);
	}
	free(copy);
	accord_certnames_clear(&n);
	free(blob);
	X509_free(x);
	accord_state_free(st);
}

static void test_ca_and_crl(void **state)
{
	struct accord_state *st = new_state();
	struct accord_err e = { 0 };
	struct certgen_crl_opts co;
	X509 *x = leaf("/C=GB/O=Example/CN=notca", &ca, 16);
	X509_CRL *crl, *older, *foreign;
	unsigned char *der, *p = NULL;
	size_t len;
	int l;
	uint64_t rev[] = { 16 };

	(void)state;
	der = der_of(x, &len);
	assert_int_equal(accord_ca_add(st, der, len, NULL, ACCORD_CA_TRUST, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a CA"));
	free(der);
	add_ca(st, &ca, "root", ACCORD_CA_TRUST);
	der = der_of(ca.x509, &len);
	assert_int_equal(accord_ca_add(st, der, len, NULL, ACCORD_CA_TRUST, &e), -EEXIST);
	free(der);
	certgen_crl_opts_init(&co);
	co.revoked = rev;
	co.nrevoked = 1;
	crl = certgen_crl(&co, &ca);
	co.last_update = -86400;
	older = certgen_crl(&co, &ca);
	foreign = certgen_crl(&co, &ca2);
	assert_non_null(crl);
	l = i2d_X509_CRL(foreign, &p);
	assert_int_equal(accord_crl_add(st, p, (size_t)l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not signed"));
	OPENSSL_free(p);
	p = NULL;
	l = i2d_X509_CRL(crl, &p);
	assert_int_equal(accord_crl_add(st, p, (size_t)l, &e), 0);
	assert_int_equal(accord_crl_add(st, p, (size_t)l, &e), 1); /* the same again */
	OPENSSL_free(p);
	p = NULL;
	l = i2d_X509_CRL(older, &p);
	assert_int_equal(accord_crl_add(st, p, (size_t)l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "older"));
	OPENSSL_free(p);
	assert_int_equal(accord_state_crl_at(st, 0)->entries, 1);
	{
		/* a CRL that revokes nothing has 0 entries (not OpenSSL's -1) */
		struct certgen_crl_opts none;
		X509_CRL *empty;
		unsigned char *q = NULL;
		int ql;

		certgen_crl_opts_init(&none);
		none.last_update = 60;
		empty = certgen_crl(&none, &ca);
		ql = i2d_X509_CRL(empty, &q);
		assert_int_equal(accord_crl_add(st, q, (size_t)ql, &e), 0);
		assert_int_equal(accord_state_crl_at(st, accord_state_crl_slots(st) - 1)->entries,
				 0);
		OPENSSL_free(q);
		X509_CRL_free(empty);
	}
	/* a CA's deletion takes its CRLs */
	assert_int_equal(accord_ca_del(st, "root", &e), 0);
	assert_false(accord_state_crl_at(st, 0)->live);
	X509_CRL_free(crl);
	X509_CRL_free(older);
	X509_CRL_free(foreign);
	X509_free(x);
	accord_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_order),
		cmocka_unit_test(test_notrust_every_level),
		cmocka_unit_test(test_registered_first),
		cmocka_unit_test(test_criteria),
		cmocka_unit_test(test_duplicates_and_refusals),
		cmocka_unit_test(test_exact_and_dot),
		cmocka_unit_test(test_from_cert),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_damaged_section),
		cmocka_unit_test(test_ca_and_crl),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
