/* SPDX-License-Identifier: MIT */
/*
 * unit-statediff: accord_state_diff() over every class and field, add,
 * delete and change, the identity rules, and both outputs.
 */
#include <errno.h>
#include <stdbool.h>
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
#include <accord/statediff.h>

#include "certgen.h"

static const struct accord_range uids = { 10000, 60000 }, gids = { 10000, 60000 };
static const struct accord_defaults defs = { "/home", "/bin/bash" };
static const unsigned char uuid[16] = { 1, 2, 3 };

/* Keeps every snapshot image until the end of a test. */
static unsigned char *images[64];
static size_t nimages;

static void free_images(void)
{
	while (nimages)
		free(images[--nimages]);
}

/* A copy of st through the snapshot format (what diff sees in practice). */
static struct accord_state *copy(const struct accord_state *st)
{
	struct accord_err e = { 0 };
	struct accord_snapshot s;
	struct accord_state *out = NULL;
	accord_snap_why why;
	unsigned char *buf;
	size_t len;

	assert_int_equal(accord_snapshot_build(st, 2, uuid, 1700000000, &buf, &len, &e), 0);
	assert_true(nimages < 64);
	images[nimages++] = buf;
	assert_int_equal(accord_snapshot_open_mem(&s, buf, len, &why), 0);
	assert_int_equal(accord_state_from_snapshot(&s, &out, &e), 0);
	accord_state_set_actor(out, 1700000500, "test");
	return out;
}

static void add_user(struct accord_state *st, const char *name)
{
	struct accord_user_spec u = { .name = name };
	struct accord_err e = { 0 };

	assert_int_equal(accord_user_add(st, &u, &defs, &e), 0);
}

static struct accord_state *base(void)
{
	struct accord_state *st = accord_state_new(&uids, &gids);
	struct accord_err e = { 0 };

	assert_non_null(st);
	accord_state_set_actor(st, 1700000000, "test");
	add_user(st, "alice");
	add_user(st, "bob");
	assert_int_equal(accord_group_add(st, "dev", false, 0, false, &e), 0);
	assert_int_equal(accord_group_adduser(st, "dev", "alice", &e), 0);
	assert_int_equal(accord_appl_add(st, "sshd", ACCORD_ACCESS_NONE, &e), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "dev",
					    ACCORD_ACCESS_READ, &e), 0);
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_PERMIT, "dev", "bob", &e), 0);
	return st;
}

static const struct accord_diff_entry *find(const struct accord_diff *d, enum accord_class c,
					    enum accord_diff_op op, const char *name)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].cls == c && d->v[i].op == op && !strcmp(d->v[i].name, name))
			return &d->v[i];
	fail_msg("no %s %d entry '%s' (of %zu)", accord_class_name(c), (int)op, name, d->n);
	return NULL;
}

/* The field's values; a/b NULL means "absent on that side". */
static void check_field(const struct accord_diff_entry *e, const char *field,
			const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < e->nfields; i++) {
		const struct accord_diff_field *f = &e->fields[i];

		if (strcmp(f->field, field))
			continue;
		if (a)
			assert_string_equal(f->a, a);
		else
			assert_null(f->a);
		if (b)
			assert_string_equal(f->b, b);
		else
			assert_null(f->b);
		return;
	}
	fail_msg("entry '%s' has no field '%s'", e->name, field);
}

static void diff(const struct accord_state *a, const struct accord_state *b,
		 struct accord_diff *d)
{
	struct accord_err e = { 0 };

	assert_int_equal(accord_state_diff(a, b, NULL, 0, NULL, 0, d, &e), 0);
}

static size_t total(const struct accord_diff *d)
{
	size_t n = 0;

	for (int c = 0; c < ACCORD_CLASS_COUNT; c++)
		n += d->count[c][0] + d->count[c][1] + d->count[c][2];
	assert_int_equal(n, d->n);
	return n;
}

static void test_identical(void **state)
{
	struct accord_state *a = base(), *b = copy(a);
	struct accord_diff d;

	(void)state;
	diff(a, b, &d);
	assert_int_equal(total(&d), 0);
	accord_diff_free(&d);
	accord_state_free(a);
	accord_state_free(b);
	free_images();
}

static void test_classes(void **state)
{
	assert_int_equal(accord_class_parse("users"), ACCORD_CLASS_USER);
	assert_int_equal(accord_class_parse("ptauth"), ACCORD_CLASS_PTAUTH);
	assert_int_equal(accord_class_parse("cas"), ACCORD_CLASS_CA);
	assert_int_equal(accord_class_parse("user"), -1);
	assert_int_equal(accord_class_parse(NULL), -1);
	assert_string_equal(accord_class_name(ACCORD_CLASS_CERTMAP), "certmaps");
	(void)state;
}

static void test_users(void **state)
{
	struct accord_state *a = base(), *b = copy(a);
	struct accord_user_spec m = { .name = "alice", .gecos = "Alice A", .home = "/srv/a",
				      .shell = "/bin/sh", .has_revoke_date = true,
				      .revoke_date = 1800000000, .has_resume_date = true,
				      .resume_date = 1800086400, .racf_id = "ALICE1",
				      .group = "dev" };
	struct accord_err e = { 0 };
	const struct accord_diff_entry *x;
	struct accord_diff d;

	(void)state;
	assert_int_equal(accord_user_mod(b, &m, &e), 0);
	assert_int_equal(accord_user_status_op(b, "alice", ACCORD_OP_REVOKE, "left", &e), 0);
	assert_int_equal(accord_user_set_flag(b, "alice", ACCORD_F_PROTECTED, true, &e), 0);
	assert_int_equal(accord_user_del(b, "bob", &e), 0);
	add_user(b, "carol");
	diff(a, b, &d);
	x = find(&d, ACCORD_CLASS_USER, ACCORD_DIFF_CHANGE, "alice");
	check_field(x, "gecos", "", "Alice A");
	check_field(x, "home", "/home/alice", "/srv/a");
	check_field(x, "shell", "/bin/bash", "/bin/sh");
	check_field(x, "status", "enabled", "revoked");
	check_field(x, "flags", "", "protected");
	check_field(x, "reason", NULL, "left");
	check_field(x, "revoke_date", "none", "2027-01-15T08:00:00Z");
	check_field(x, "resume_date", "none", "2027-01-16T08:00:00Z");
	check_field(x, "racf_id", NULL, "ALICE1");
	{
		char ga[16], gb[16];

		snprintf(ga, sizeof(ga), "%u", accord_state_user(a, "alice")->gid);
		snprintf(gb, sizeof(gb), "%u", accord_state_group(b, "dev")->gid);
		check_field(x, "gid", ga, gb);
	}
	assert_int_equal(x->nfields, 10);
	find(&d, ACCORD_CLASS_USER, ACCORD_DIFF_DELETE, "bob");
	find(&d, ACCORD_CLASS_USER, ACCORD_DIFF_ADD, "carol");
	/* bob's personal group went with him, carol's came; the swap rule
	 * to bob is left alone (a swap target need not be an accord profile) */
	find(&d, ACCORD_CLASS_GROUP, ACCORD_DIFF_DELETE, "bob");
	find(&d, ACCORD_CLASS_GROUP, ACCORD_DIFF_ADD, "carol");
	assert_int_equal(d.count[ACCORD_CLASS_USER][ACCORD_DIFF_ADD], 1);
	assert_int_equal(d.count[ACCORD_CLASS_USER][ACCORD_DIFF_DELETE], 1);
	assert_int_equal(d.count[ACCORD_CLASS_USER][ACCORD_DIFF_CHANGE], 1);
	accord_diff_free(&d);
	/* the reverse diff swaps every side */
	diff(b, a, &d);
	x = find(&d, ACCORD_CLASS_USER, ACCORD_DIFF_CHANGE, "alice");
	check_field(x, "shell", "/bin/sh", "/bin/bash");
	find(&d, ACCORD_CLASS_USER, ACCORD_DIFF_ADD, "bob");
	find(&d, ACCORD_CLASS_USER, ACCORD_DIFF_DELETE, "carol");
	accord_diff_free(&d);
	accord_state_free(a);
	accord_state_free(b);
	free_images();
}

/* A profile deleted and made again under the same name is matched by
 * name: a CHANGE (created, uid), never a delete plus an add. */
static void test_identity_recreated(void **state)
{
	struct accord_state *a = base(), *b = copy(a);
	struct accord_err e = { 0 };
	const struct accord_diff_entry *x;
	struct accord_diff d;
	char ua[16], ub[16];

	(void)state;
	assert_int_equal(accord_user_del(b, "alice", &e), 0);
	accord_state_set_actor(b, 1700003600, "test");
	add_user(b, "alice");
	diff(a, b, &d);
	assert_int_equal(d.count[ACCORD_CLASS_USER][ACCORD_DIFF_ADD], 0);
	assert_int_equal(d.count[ACCORD_CLASS_USER][ACCORD_DIFF_DELETE], 0);
	x = find(&d, ACCORD_CLASS_USER, ACCORD_DIFF_CHANGE, "alice");
	snprintf(ua, sizeof(ua), "%u", accord_state_user(a, "alice")->uid);
	snprintf(ub, sizeof(ub), "%u", accord_state_user(b, "alice")->uid);
	assert_string_not_equal(ua, ub); /* IDs are never reused */
	check_field(x, "uid", ua, ub);
	check_field(x, "created", "2023-11-14T22:13:20Z", "2023-11-14T23:13:20Z");
	/* dev lost alice as a member (she was removed on delete) */
	x = find(&d, ACCORD_CLASS_GROUP, ACCORD_DIFF_CHANGE, "dev");
	check_field(x, "members", "alice", "");
	accord_diff_free(&d);
	accord_state_free(a);
	accord_state_free(b);
	free_images();
}

static void test_groups(void **state)
{
	struct accord_state *a = base(), *b = copy(a);
	struct accord_err e = { 0 };
	const struct accord_diff_entry *x;
	struct accord_diff d;

	(void)state;
	assert_int_equal(accord_group_adduser(b, "dev", "bob", &e), 0);
	assert_int_equal(accord_group_add(b, "ops", false, 0, false, &e), 0);
	assert_int_equal(accord_group_add(a, "old", true, 59000, false, &e), 0);
	diff(a, b, &d);
	x = find(&d, ACCORD_CLASS_GROUP, ACCORD_DIFF_CHANGE, "dev");
	check_field(x, "members", "alice", "alice,bob");
	assert_int_equal(x->nfields, 1);
	find(&d, ACCORD_CLASS_GROUP, ACCORD_DIFF_ADD, "ops");
	find(&d, ACCORD_CLASS_GROUP, ACCORD_DIFF_DELETE, "old");
	assert_int_equal(total(&d), 3);
	accord_diff_free(&d);
	/* the same members in another order are no change */
	accord_state_free(b);
	b = copy(a);
	assert_int_equal(accord_group_deluser(b, "dev", "alice", &e), 0);
	assert_int_equal(accord_group_adduser(b, "dev", "bob", &e), 0);
	assert_int_equal(accord_group_adduser(b, "dev", "alice", &e), 0);
	assert_int_equal(accord_group_adduser(a, "dev", "bob", &e), 0);
	diff(a, b, &d);
	assert_int_equal(total(&d), 0);
	accord_diff_free(&d);
	accord_state_free(a);
	accord_state_free(b);
	free_images();
}

static void test_appls_swaps(void **state)
{
	struct accord_state *a = base(), *b = copy(a);
	struct accord_err e = { 0 };
	const struct accord_diff_entry *x;
	struct accord_diff d;

	(void)state;
	assert_int_equal(accord_appl_set_uacc(b, "sshd", ACCORD_ACCESS_READ, &e), 0);
	assert_int_equal(accord_appl_permit(b, "sshd", ACCORD_ACE_GROUP, "dev",
					    ACCORD_ACCESS_NONE, &e), 0);
	assert_int_equal(accord_appl_permit(b, "sshd", ACCORD_ACE_USER, "bob",
					    ACCORD_ACCESS_READ, &e), 0);
	assert_int_equal(accord_appl_permit(a, "sshd", ACCORD_ACE_USER, "alice",
					    ACCORD_ACCESS_READ, &e), 0);
	assert_int_equal(accord_appl_add(b, "login", ACCORD_ACCESS_NONE, &e), 0);
	assert_int_equal(accord_appl_add(a, "ftp", ACCORD_ACCESS_NONE, &e), 0);
	assert_int_equal(accord_swap_set(b, ACCORD_SWAP_DENY, "dev", "bob", &e), 0);
	assert_int_equal(accord_swap_set(b, ACCORD_SWAP_PERMIT, "dev", "root", &e), 0);
	assert_int_equal(accord_swap_set(a, ACCORD_SWAP_PERMIT, "dev", "alice", &e), 0);
	diff(a, b, &d);
	x = find(&d, ACCORD_CLASS_APPL, ACCORD_DIFF_CHANGE, "sshd");
	check_field(x, "uacc", "none", "read");
	check_field(x, "access:group:dev", "read", "none");
	check_field(x, "access:user:bob", NULL, "read");
	check_field(x, "access:user:alice", "read", NULL);
	assert_int_equal(x->nfields, 4);
	find(&d, ACCORD_CLASS_APPL, ACCORD_DIFF_ADD, "login");
	find(&d, ACCORD_CLASS_APPL, ACCORD_DIFF_DELETE, "ftp");
	x = find(&d, ACCORD_CLASS_SWAP, ACCORD_DIFF_CHANGE, "dev->bob");
	check_field(x, "kind", "permit", "deny");
	find(&d, ACCORD_CLASS_SWAP, ACCORD_DIFF_ADD, "dev->root");
	find(&d, ACCORD_CLASS_SWAP, ACCORD_DIFF_DELETE, "dev->alice");
	assert_int_equal(total(&d), 6);
	accord_diff_free(&d);
	accord_state_free(a);
	accord_state_free(b);
	free_images();
}

static void der_of(struct certgen_cert *c, unsigned char **der, size_t *len)
{
	assert_int_equal(certgen_cert_der(c->x509, der, len), 0);
}

static void test_certs(void **state)
{
	struct accord_state *a = base(), *b;
	struct certgen_opts o;
	struct certgen_cert ca, leaf, ca2;
	struct certgen_crl_opts co;
	struct accord_certmap_spec ms = { .label = "m1", .user = "alice",
					  .sdn = "CN=alice,O=Example" };
	struct accord_certmap_spec ms2 = { .label = "m2", .user = "bob",
					   .sdn = "CN=bob,O=Example" };
	struct accord_certmap_warn w = { 0 };
	struct accord_err e = { 0 };
	const struct accord_diff_entry *x;
	unsigned char *der, *lder, *c2der, *crl;
	size_t len, llen, c2len, crllen;
	X509_CRL *xc;
	struct accord_diff d;
	char key[80];
	int i;

	(void)state;
	certgen_opts_init(&o);
	o.subject = "/O=Example/CN=Root";
	o.is_ca = true;
	assert_int_equal(certgen_make(&o, NULL, &ca), 0);
	certgen_opts_init(&o);
	o.subject = "/O=Example/CN=Root2";
	o.is_ca = true;
	assert_int_equal(certgen_make(&o, NULL, &ca2), 0);
	certgen_opts_init(&o);
	o.subject = "/O=Example/CN=carol";
	assert_int_equal(certgen_make(&o, &ca, &leaf), 0);
	der_of(&ca, &der, &len);
	der_of(&leaf, &lder, &llen);
	der_of(&ca2, &c2der, &c2len);
	certgen_crl_opts_init(&co);
	xc = certgen_crl(&co, &ca);
	assert_non_null(xc);
	assert_int_equal(certgen_crl_der(xc, &crl, &crllen), 0);
	X509_CRL_free(xc);

	assert_int_equal(accord_ca_add(a, der, len, "root", ACCORD_CA_TRUST, &e), 0);
	assert_int_equal(accord_ca_add(a, c2der, c2len, "root2", ACCORD_CA_TRUST, &e), 0);
	assert_int_equal(accord_certmap_add(a, &ms, &w, &e), 0);
	assert_int_equal(accord_certmap_add(a, &ms2, &w, &e), 0);
	assert_int_equal(accord_certcrit_add(a, "SERVICE=sshd", "alice", &e), 0);
	b = copy(a);
	assert_int_equal(accord_certmap_alter(b, "m1", "alice", NULL, ACCORD_MAP_NOTRUST, &e),
			 0);
	assert_int_equal(accord_certmap_del(b, "m2", "bob", &e), 0);
	ms2.label = "m3";
	ms2.sdn = "CN=bob3,O=Example";
	assert_int_equal(accord_certmap_add(b, &ms2, &w, &e), 0);
	assert_int_equal(accord_certreg_add(b, lder, llen, "bob", "c1", false, &e), 0);
	assert_int_equal(accord_certcrit_del(b, "SERVICE=sshd", &e), 0);
	assert_int_equal(accord_certcrit_add(b, "SERVICE=login", "bob", &e), 0);
	assert_int_equal(accord_ca_set_status(b, "root", ACCORD_CA_HIGHTRUST, &e), 0);
	assert_int_equal(accord_ca_del(b, "root2", &e), 0);
	assert_int_equal(accord_crl_add(b, crl, crllen, &e), 0);
	diff(a, b, &d);
	x = find(&d, ACCORD_CLASS_CERTMAP, ACCORD_DIFF_CHANGE, "map:alice/m1");
	check_field(x, "status", "trust", "notrust");
	assert_int_equal(x->nfields, 1);
	find(&d, ACCORD_CLASS_CERTMAP, ACCORD_DIFF_DELETE, "map:bob/m2");
	find(&d, ACCORD_CLASS_CERTMAP, ACCORD_DIFF_ADD, "map:bob/m3");
	{
		unsigned char md[32];
		unsigned mdlen;

		EVP_Digest(lder, llen, md, &mdlen, EVP_sha256(), NULL);
		strcpy(key, "cert:");
		for (i = 0; i < 32; i++)
			sprintf(key + 5 + 2 * i, "%02x", md[i]);
	}
	find(&d, ACCORD_CLASS_CERTMAP, ACCORD_DIFF_ADD, key);
	find(&d, ACCORD_CLASS_CERTMAP, ACCORD_DIFF_DELETE, "criteria:SERVICE=sshd");
	find(&d, ACCORD_CLASS_CERTMAP, ACCORD_DIFF_ADD, "criteria:SERVICE=login");
	x = find(&d, ACCORD_CLASS_CA, ACCORD_DIFF_CHANGE, "ca:root");
	check_field(x, "status", "trust", "hightrust");
	find(&d, ACCORD_CLASS_CA, ACCORD_DIFF_DELETE, "ca:root2");
	find(&d, ACCORD_CLASS_CA, ACCORD_DIFF_ADD, "crl:root");
	assert_int_equal(d.count[ACCORD_CLASS_CERTMAP][ACCORD_DIFF_ADD], 3);
	assert_int_equal(d.count[ACCORD_CLASS_CA][ACCORD_DIFF_ADD], 1);
	assert_int_equal(total(&d), 9);
	accord_diff_free(&d);
	/* registrations and CRLs: field changes */
	accord_state_free(a);
	a = copy(b);
	{
		struct certgen_crl_opts co2;
		uint64_t rev = 77;

		certgen_crl_opts_init(&co2);
		co2.last_update = 60;
		co2.revoked = &rev;
		co2.nrevoked = 1;
		xc = certgen_crl(&co2, &ca);
		assert_non_null(xc);
		free(crl);
		assert_int_equal(certgen_crl_der(xc, &crl, &crllen), 0);
		X509_CRL_free(xc);
		assert_int_equal(accord_crl_add(b, crl, crllen, &e), 0);
	}
	diff(a, b, &d);
	x = find(&d, ACCORD_CLASS_CA, ACCORD_DIFF_CHANGE, "crl:root");
	{
		size_t k;
		bool seen = false;

		for (k = 0; k < x->nfields; k++)
			if (!strcmp(x->fields[k].field, "entries")) {
				assert_string_equal(x->fields[k].b, "1");
				seen = true;
			}
		assert_true(seen);
	}
	assert_true(x->nfields >= 3); /* last_update, entries, sha256 (and created) */
	accord_diff_free(&d);
	free(der);
	free(lder);
	free(c2der);
	free(crl);
	certgen_cert_free(&ca);
	certgen_cert_free(&ca2);
	certgen_cert_free(&leaf);
	accord_state_free(a);
	accord_state_free(b);
	free_images();
}

static void test_ptauth(void **state)
{
	struct accord_state *a = base(), *b = copy(a);
	const char *pa[] = { "TSO:group:dev", "CICS:user:alice" };
	const char *pb[] = { "TSO:group:dev", "IMS:user:bob" };
	const char *none[1] = { NULL };
	struct accord_err e = { 0 };
	struct accord_diff d;

	(void)state;
	assert_int_equal(accord_state_diff(a, b, pa, 2, pb, 2, &d, &e), 0);
	find(&d, ACCORD_CLASS_PTAUTH, ACCORD_DIFF_DELETE, "CICS:user:alice");
	find(&d, ACCORD_CLASS_PTAUTH, ACCORD_DIFF_ADD, "IMS:user:bob");
	assert_int_equal(total(&d), 2);
	accord_diff_free(&d);
	/* unknown on one side: not compared */
	assert_int_equal(accord_state_diff(a, b, pa, 2, NULL, 0, &d, &e), 0);
	assert_int_equal(total(&d), 0);
	accord_diff_free(&d);
	/* known empty: everything deleted */
	assert_int_equal(accord_state_diff(a, b, pa, 2, none, 0, &d, &e), 0);
	assert_int_equal(d.count[ACCORD_CLASS_PTAUTH][ACCORD_DIFF_DELETE], 2);
	accord_diff_free(&d);
	assert_int_equal(accord_state_diff(NULL, b, NULL, 0, NULL, 0, &d, &e), -EINVAL);
	accord_state_free(a);
	accord_state_free(b);
	free_images();
}

static void test_outputs(void **state)
{
	struct accord_state *a = base(), *b = copy(a);
	struct accord_user_spec m = { .name = "alice", .shell = "/bin/sh" };
	struct accord_err e = { 0 };
	struct accord_diff d;
	json_object *j;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(accord_user_mod(b, &m, &e), 0);
	assert_int_equal(accord_group_add(b, "ops", true, 50000, false, &e), 0);
	assert_int_equal(accord_appl_del(b, "sshd", &e), 0);
	diff(a, b, &d);
	f = open_memstream(&text, &tlen);
	assert_non_null(f);
	accord_diff_print(&d, "A.bak", "live", f);
	fclose(f);
	assert_string_equal(text,
			    "--- A.bak\n+++ live\n"
			    "~ user alice: shell /bin/bash -> /bin/sh\n"
			    "+ group ops\n"
			    "- appl sshd\n"
			    "3 differences: users +0 -0 ~1; groups +1 -0 ~0; appls +0 -1 ~0\n");
	free(text);
	j = accord_diff_json(&d);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
		"{\"summary\":{\"users\":{\"add\":0,\"delete\":0,\"change\":1},"
		"\"groups\":{\"add\":1,\"delete\":0,\"change\":0},"
		"\"appls\":{\"add\":0,\"delete\":1,\"change\":0},"
		"\"swaps\":{\"add\":0,\"delete\":0,\"change\":0},"
		"\"certmaps\":{\"add\":0,\"delete\":0,\"change\":0},"
		"\"cas\":{\"add\":0,\"delete\":0,\"change\":0},"
		"\"ptauth\":{\"add\":0,\"delete\":0,\"change\":0}},"
		"\"changes\":[{\"class\":\"users\",\"op\":\"change\",\"name\":\"alice\","
		"\"fields\":[{\"field\":\"shell\",\"a\":\"\\/bin\\/bash\",\"b\":\"\\/bin\\/sh\"}]},"
		"{\"class\":\"groups\",\"op\":\"add\",\"name\":\"ops\",\"fields\":[]},"
		"{\"class\":\"appls\",\"op\":\"delete\",\"name\":\"sshd\",\"fields\":[]}]}");
	json_object_put(j);
	accord_diff_free(&d);
	/* no differences */
	diff(a, a, &d);
	text = NULL;
	f = open_memstream(&text, &tlen);
	accord_diff_print(&d, "x", "y", f);
	fclose(f);
	assert_string_equal(text, "--- x\n+++ y\nno differences\n");
	free(text);
	accord_diff_free(&d);
	accord_diff_free(NULL);
	accord_state_free(a);
	accord_state_free(b);
	free_images();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_identity_recreated),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_appls_swaps),
		cmocka_unit_test(test_certs),
		cmocka_unit_test(test_ptauth),
		cmocka_unit_test(test_outputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
