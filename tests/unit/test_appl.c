/* SPDX-License-Identifier: MIT */
/*
 * Applications (APPL class), swap rules and user revoke/resume dates:
 * the state operations (common/appl.c, common/state.c), their cascades on
 * user and group deletion, the optional snapshot sections that carry them
 * (common/snapshot_build.c -> common/snapshot.c), the loader's refusal of
 * sections it does not know, and the journal lines they produce
 * (common/journal.c).
 */
#include "unit_util.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include <accord/jsonfmt.h>

#include "hash.h"
#include "journal.h"
#include "snapshot_format.h"

#define NOW0 1700000000
#define NOW1 1700000500
#define REVOKE_AT 1800000000
#define RESUME_AT 1750000000

static void ok(int r, const struct accord_err *err)
{
	if (r != 0)
		fail_msg("operation failed: %d %s", r, err->msg);
}

/*
 * Groups staff, dev, wheel; alice (staff), bob (dev), carol (primary
 * staff, also dev); applications sshd (NONE; group staff READ, user bob
 * READ, user carol NONE), login (READ), cron (no entries); swap rules
 * wheel->root permit, dev->alice deny, staff->bob permit; alice has a
 * revoke date, bob a resume date, carol both.
 */
static struct accord_state *appl_state(void)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s;

	ok(accord_group_add(st, "staff", false, 0, false, &err), &err);
	ok(accord_group_add(st, "dev", false, 0, false, &err), &err);
	ok(accord_group_add(st, "wheel", false, 0, false, &err), &err);
	s = (struct accord_user_spec){ .name = "alice", .groups = "staff",
				       .has_revoke_date = true, .revoke_date = REVOKE_AT };
	ok(accord_user_add(st, &s, NULL, &err), &err);
	s = (struct accord_user_spec){ .name = "bob", .groups = "dev",
				       .has_resume_date = true, .resume_date = RESUME_AT };
	ok(accord_user_add(st, &s, NULL, &err), &err);
	s = (struct accord_user_spec){ .name = "carol", .group = "staff", .groups = "dev",
				       .has_revoke_date = true, .revoke_date = REVOKE_AT,
				       .has_resume_date = true, .resume_date = RESUME_AT };
	ok(accord_user_add(st, &s, NULL, &err), &err);
	ok(accord_appl_add(st, "sshd", ACCORD_ACCESS_NONE, &err), &err);
	ok(accord_appl_add(st, "login", ACCORD_ACCESS_READ, &err), &err);
	ok(accord_appl_add(st, "cron", ACCORD_ACCESS_NONE, &err), &err);
	ok(accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "staff", ACCORD_ACCESS_READ, &err),
	   &err);
	ok(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "bob", ACCORD_ACCESS_READ, &err), &err);
	ok(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "carol", ACCORD_ACCESS_NONE, &err),
	   &err);
	ok(accord_swap_set(st, ACCORD_SWAP_PERMIT, "wheel", "root", &err), &err);
	ok(accord_swap_set(st, ACCORD_SWAP_DENY, "dev", "alice", &err), &err);
	ok(accord_swap_set(st, ACCORD_SWAP_PERMIT, "staff", "bob", &err), &err);
	return st;
}

static const struct accord_appl *appl(const struct accord_state *st, const char *name)
{
	const struct accord_appl *a = accord_state_appl(st, name);

	if (!a)
		fail_msg("application '%s' missing", name);
	return a;
}

/* An access list as "u:name:access,g:name:access". */
static void entries_of(const struct accord_appl *a, char *buf, size_t len)
{
	size_t used = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < a->nentries; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%c:%s:%u", i ? "," : "",
					 a->entries[i].kind == ACCORD_ACE_USER ? 'u' : 'g',
					 a->entries[i].name, a->entries[i].access);
}

/* Live swap rules as "from>to:kind" in slot order. */
static void swaps_of(const struct accord_state *st, char *buf, size_t len)
{
	size_t used = 0, i;

	buf[0] = '\0';
	for (i = 0; i < accord_state_swap_slots(st); i++) {
		const struct accord_swap_rule *w = accord_state_swap_at(st, i);

		if (w->live)
			used += (size_t)snprintf(buf + used, len - used, "%s%s>%s:%u",
						 used ? "," : "", w->from, w->to, w->kind);
	}
}

static struct accord_state *reload(const unsigned char *img, size_t len)
{
	struct accord_snapshot s;
	struct accord_state *st = NULL;
	struct accord_err err = { 0 };
	accord_snap_why why = NULL;

	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	if (accord_state_from_snapshot(&s, &st, &err) != 0)
		fail_msg("reload: %s", err.msg);
	return st;
}

/* ---- state operations ------------------------------------------------- */

static void test_appl_ops(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_err err = { 0 };
	const struct accord_appl *a;
	char buf[512];

	(void)state;
	assert_int_equal(accord_appl_add(st, "sshd", ACCORD_ACCESS_READ, &err), -EEXIST);
	assert_contains(err.msg, "application 'sshd' already exists");
	assert_int_equal(accord_appl_add(st, "SSHD", ACCORD_ACCESS_NONE, &err), -EINVAL);
	assert_contains(err.msg, "application name");
	assert_int_equal(accord_appl_add(st, "", ACCORD_ACCESS_NONE, &err), -EINVAL);
	assert_int_equal(accord_appl_add(st, "su", 2, &err), -EINVAL);
	assert_contains(err.msg, "NONE or READ");
	assert_null(accord_state_appl(st, "su"));

	a = appl(st, "sshd");
	assert_int_equal(a->uacc, ACCORD_ACCESS_NONE);
	assert_int_equal(a->created, NOW0);
	entries_of(a, buf, sizeof(buf));
	/* sorted: users first, then groups, each by name */
	assert_string_equal(buf, "u:bob:1,u:carol:0,g:staff:1");

	accord_state_set_actor(st, NOW1, "root");
	assert_int_equal(accord_appl_set_uacc(st, "sshd", ACCORD_ACCESS_READ, &err), 0);
	assert_int_equal(accord_appl_set_uacc(st, "sshd", ACCORD_ACCESS_READ, &err), 1);
	assert_int_equal(appl(st, "sshd")->changed, NOW1);
	assert_int_equal(appl(st, "sshd")->created, NOW0);
	assert_int_equal(accord_appl_set_uacc(st, "ghost", ACCORD_ACCESS_READ, &err), -ENOENT);
	assert_contains(err.msg, "application 'ghost' does not exist");
	assert_int_equal(accord_appl_set_uacc(st, "sshd", 7, &err), -EINVAL);

	/* permit: add, same again, change */
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "alice",
					    ACCORD_ACCESS_READ, &err), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "alice",
					    ACCORD_ACCESS_READ, &err), 1);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "carol",
					    ACCORD_ACCESS_READ, &err), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "dev",
					    ACCORD_ACCESS_NONE, &err), 0);
	/* a user and a group of the same name are two entries */
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "alice",
					    ACCORD_ACCESS_READ, &err), 0);
	entries_of(appl(st, "sshd"), buf, sizeof(buf));
	assert_string_equal(buf, "u:alice:1,u:bob:1,u:carol:1,g:alice:1,g:dev:0,g:staff:1");
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "ghost",
					    ACCORD_ACCESS_READ, &err), -ENOENT);
	assert_contains(err.msg, "user 'ghost' does not exist");
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "nosuch",
					    ACCORD_ACCESS_READ, &err), -ENOENT);
	assert_contains(err.msg, "group 'nosuch' does not exist");
	assert_int_equal(accord_appl_permit(st, "ghost", ACCORD_ACE_USER, "alice",
					    ACCORD_ACCESS_READ, &err), -ENOENT);
	assert_int_equal(accord_appl_permit(st, "sshd", 3, "alice", ACCORD_ACCESS_READ, &err),
			 -EINVAL);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "alice", 2, &err),
			 -EINVAL);

	/* revoke access */
	assert_int_equal(accord_appl_revoke_access(st, "sshd", ACCORD_ACE_GROUP, "alice", &err),
			 0);
	assert_int_equal(accord_appl_revoke_access(st, "sshd", ACCORD_ACE_GROUP, "alice", &err),
			 -ENOENT);
	assert_contains(err.msg, "group 'alice' has no entry in the access list of application "
			"'sshd'");
	assert_int_equal(accord_appl_revoke_access(st, "login", ACCORD_ACE_USER, "bob", &err),
			 -ENOENT);
	assert_int_equal(accord_appl_revoke_access(st, "ghost", ACCORD_ACE_USER, "bob", &err),
			 -ENOENT);
	entries_of(appl(st, "sshd"), buf, sizeof(buf));
	assert_string_equal(buf, "u:alice:1,u:bob:1,u:carol:1,g:dev:0,g:staff:1");

	/* delete, and define again: a new profile */
	assert_int_equal(accord_appl_del(st, "ghost", &err), -ENOENT);
	assert_int_equal(accord_appl_del(st, "sshd", &err), 0);
	assert_null(accord_state_appl(st, "sshd"));
	assert_int_equal(accord_appl_del(st, "sshd", &err), -ENOENT);
	assert_int_equal(accord_appl_add(st, "sshd", ACCORD_ACCESS_NONE, &err), 0);
	assert_int_equal(appl(st, "sshd")->nentries, 0);
	assert_int_equal(appl(st, "sshd")->created, NOW1);
	assert_int_equal(accord_state_appl_slots(st), 4);
	accord_state_free(st);
}

static void test_swap_ops(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_err err = { 0 };
	char buf[512];

	(void)state;
	swaps_of(st, buf, sizeof(buf));
	assert_string_equal(buf, "wheel>root:1,dev>alice:2,staff>bob:1");
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_PERMIT, "wheel", "root", &err), 1);
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_DENY, "wheel", "root", &err), 0);
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_DENY, "wheel", "root", &err), 1);
	/* to may be any valid name: a local account, a profile, a future one */
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_PERMIT, "wheel", "postgres", &err), 0);
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_PERMIT, "nosuch", "root", &err), -ENOENT);
	assert_contains(err.msg, "group 'nosuch' does not exist");
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_PERMIT, "wheel", "Root", &err), -EINVAL);
	assert_contains(err.msg, "swap target");
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_PERMIT, "wheel", "", &err), -EINVAL);
	assert_int_equal(accord_swap_set(st, 3, "wheel", "root", &err), -EINVAL);
	assert_int_equal(accord_swap_del(st, "wheel", "nobody", &err), -ENOENT);
	assert_contains(err.msg, "no swap rule from group 'wheel' to 'nobody'");
	assert_int_equal(accord_swap_del(st, "dev", "alice", &err), 0);
	assert_int_equal(accord_swap_del(st, "dev", "alice", &err), -ENOENT);
	swaps_of(st, buf, sizeof(buf));
	assert_string_equal(buf, "wheel>root:2,staff>bob:1,wheel>postgres:1");
	assert_int_equal(accord_state_swap_slots(st), 4);
	assert_null(accord_state_swap_at(st, 4));
	accord_state_free(st);
}

static void test_user_dates(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "alice" };
	const struct accord_user *u;
	char *before, *after;

	(void)state;
	u = accord_state_user(st, "alice");
	assert_int_equal(u->revoke_date, REVOKE_AT);
	assert_int_equal(u->resume_date, 0);
	/* mod without dates keeps them */
	s.gecos = "Alice";
	ok(accord_user_mod(st, &s, &err), &err);
	assert_int_equal(u->revoke_date, REVOKE_AT);
	s = (struct accord_user_spec){ .name = "alice", .has_resume_date = true,
				       .resume_date = RESUME_AT };
	ok(accord_user_mod(st, &s, &err), &err);
	assert_int_equal(u->revoke_date, REVOKE_AT);
	assert_int_equal(u->resume_date, RESUME_AT);
	s = (struct accord_user_spec){ .name = "alice", .has_revoke_date = true };
	ok(accord_user_mod(st, &s, &err), &err); /* 0 clears */
	assert_int_equal(u->revoke_date, 0);
	assert_int_equal(u->resume_date, RESUME_AT);

	before = unit_state_fingerprint(st);
	s = (struct accord_user_spec){ .name = "alice", .has_revoke_date = true,
				       .revoke_date = -1 };
	assert_int_equal(accord_user_mod(st, &s, &err), -EINVAL);
	assert_contains(err.msg, "revoke date");
	s = (struct accord_user_spec){ .name = "alice", .gecos = "x", .has_resume_date = true,
				       .resume_date = INT64_MIN };
	assert_int_equal(accord_user_mod(st, &s, &err), -EINVAL);
	assert_contains(err.msg, "resume date");
	s = (struct accord_user_spec){ .name = "dora", .has_revoke_date = true,
				       .revoke_date = -5 };
	assert_int_equal(accord_user_add(st, &s, NULL, &err), -EINVAL);
	after = unit_state_fingerprint(st);
	assert_string_equal(before, after);
	free(before);
	free(after);
	accord_state_free(st);
}

/* state.h: a refused operation leaves the state as it was; and so do the
 * "nothing to do" answers (1). */
static void test_refused_ops_change_nothing(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_err err;
	char *before = unit_state_fingerprint(st), *after;
	int i, r;

	(void)state;
	accord_state_set_actor(st, NOW1, "root");
	for (i = 0;; i++) {
		memset(&err, 0, sizeof(err));
		switch (i) {
		case 0: r = accord_appl_add(st, "sshd", ACCORD_ACCESS_NONE, &err); break;
		case 1: r = accord_appl_add(st, "Bad", ACCORD_ACCESS_NONE, &err); break;
		case 2: r = accord_appl_add(st, "new", 9, &err); break;
		case 3: r = accord_appl_del(st, "ghost", &err); break;
		case 4: r = accord_appl_set_uacc(st, "ghost", ACCORD_ACCESS_READ, &err); break;
		case 5: r = accord_appl_set_uacc(st, "sshd", 2, &err); break;
		case 6:
			r = accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "ghost",
					       ACCORD_ACCESS_READ, &err);
			break;
		case 7:
			r = accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "ghost",
					       ACCORD_ACCESS_READ, &err);
			break;
		case 8:
			r = accord_appl_permit(st, "sshd", 0, "alice", ACCORD_ACCESS_READ, &err);
			break;
		case 9:
			r = accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "alice", 3, &err);
			break;
		case 10:
			r = accord_appl_permit(st, "ghost", ACCORD_ACE_USER, "alice",
					       ACCORD_ACCESS_READ, &err);
			break;
		case 11:
			r = accord_appl_revoke_access(st, "sshd", ACCORD_ACE_USER, "alice", &err);
			break;
		case 12:
			r = accord_appl_revoke_access(st, "sshd", ACCORD_ACE_GROUP, "bob", &err);
			break;
		case 13:
			r = accord_appl_revoke_access(st, "sshd", 5, "bob", &err);
			break;
		case 14: r = accord_swap_set(st, ACCORD_SWAP_PERMIT, "ghost", "root", &err); break;
		case 15: r = accord_swap_set(st, ACCORD_SWAP_PERMIT, "wheel", "a:b", &err); break;
		case 16: r = accord_swap_set(st, 0, "wheel", "root", &err); break;
		case 17: r = accord_swap_del(st, "wheel", "alice", &err); break;
		case 18: r = accord_swap_del(st, "ghost", "root", &err); break;
		case 19: r = accord_group_del(st, "staff", &err); break; /* carol's primary */
		default: r = 1000; break;
		}
		if (r == 1000)
			break;
		if (r >= 0)
			fail_msg("refused operation #%d was accepted (%d)", i, r);
		assert_int_equal(err.code, r);
		assert_true(err.msg[0] != '\0');
		after = unit_state_fingerprint(st);
		if (strcmp(before, after))
			fail_msg("refused operation #%d (%s) changed the state:\n%s\n---\n%s", i,
				 err.msg, before, after);
		free(after);
	}
	assert_int_equal(accord_appl_set_uacc(st, "login", ACCORD_ACCESS_READ, &err), 1);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "bob",
					    ACCORD_ACCESS_READ, &err), 1);
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_DENY, "dev", "alice", &err), 1);
	after = unit_state_fingerprint(st);
	assert_string_equal(before, after);
	free(after);
	free(before);
	accord_state_free(st);
}

/* The fingerprint sees every new field, or the test above proves nothing. */
static void test_fingerprint_sees_changes(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "bob", .has_revoke_date = true,
				      .revoke_date = 1 };
	char *a = unit_state_fingerprint(st), *b;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		switch (i) {
		case 0: ok(accord_appl_set_uacc(st, "cron", ACCORD_ACCESS_READ, &err), &err); break;
		case 1:
			ok(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "carol",
					      ACCORD_ACCESS_READ, &err), &err);
			break;
		case 2: ok(accord_swap_set(st, ACCORD_SWAP_DENY, "wheel", "root", &err), &err); break;
		case 3: ok(accord_user_mod(st, &s, &err), &err); break;
		case 4: ok(accord_appl_add(st, "su", ACCORD_ACCESS_NONE, &err), &err); break;
		}
		b = unit_state_fingerprint(st);
		if (!strcmp(a, b))
			fail_msg("change #%d not seen by the fingerprint", i);
		free(a);
		a = b;
	}
	free(a);
	accord_state_free(st);
}

/* ---- cascades ----------------------------------------------------------- */

static void test_cascade_user_del(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_err err = { 0 };
	char buf[512];

	(void)state;
	/* bob's personal group is in an access list and in a swap rule */
	ok(accord_appl_permit(st, "login", ACCORD_ACE_GROUP, "bob", ACCORD_ACCESS_NONE, &err),
	   &err);
	ok(accord_appl_permit(st, "login", ACCORD_ACE_USER, "bob", ACCORD_ACCESS_NONE, &err),
	   &err);
	ok(accord_swap_set(st, ACCORD_SWAP_PERMIT, "bob", "root", &err), &err);
	accord_state_set_actor(st, NOW1, "root");
	ok(accord_user_del(st, "bob", &err), &err);
	assert_null(accord_state_group(st, "bob"));
	entries_of(appl(st, "sshd"), buf, sizeof(buf));
	assert_string_equal(buf, "u:carol:0,g:staff:1");
	assert_int_equal(appl(st, "sshd")->changed, NOW1);
	entries_of(appl(st, "login"), buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(appl(st, "login")->changed, NOW1);
	assert_int_equal(appl(st, "cron")->changed, NOW0); /* untouched */
	swaps_of(st, buf, sizeof(buf));
	/* "to bob" stays: to is only a name, which may come back */
	assert_string_equal(buf, "wheel>root:1,dev>alice:2,staff>bob:1");
	/* a user that comes back under the same name gets no old access */
	ok(unit_add(st, "bob", &err), &err);
	entries_of(appl(st, "sshd"), buf, sizeof(buf));
	assert_string_equal(buf, "u:carol:0,g:staff:1");
	free(unit_state_fingerprint(st)); /* and the snapshot verifies */
	accord_state_free(st);
}

static void test_cascade_group_del(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_err err = { 0 };
	char buf[512];

	(void)state;
	ok(accord_appl_permit(st, "login", ACCORD_ACE_GROUP, "dev", ACCORD_ACCESS_NONE, &err),
	   &err);
	ok(accord_swap_set(st, ACCORD_SWAP_PERMIT, "dev", "root", &err), &err);
	accord_state_set_actor(st, NOW1, "root");
	ok(accord_group_del(st, "dev", &err), &err);
	entries_of(appl(st, "login"), buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(appl(st, "login")->changed, NOW1);
	swaps_of(st, buf, sizeof(buf));
	assert_string_equal(buf, "wheel>root:1,staff>bob:1");
	/* a refused group del (primary of carol) cascades nothing */
	assert_int_equal(accord_group_del(st, "staff", &err), -EBUSY);
	entries_of(appl(st, "sshd"), buf, sizeof(buf));
	assert_string_equal(buf, "u:bob:1,u:carol:0,g:staff:1");
	free(unit_state_fingerprint(st));
	accord_state_free(st);
}

/* ---- the snapshot sections ----------------------------------------------- */

static void test_round_trip(void **state)
{
	struct accord_state *st = appl_state(), *st2, *st3;
	struct accord_err err = { 0 };
	unsigned char *img, *img2;
	size_t len, len2;
	char *a, *b, *c;

	(void)state;
	/* some dead slots too: deleted applications and rules are not written */
	ok(accord_appl_add(st, "gone", ACCORD_ACCESS_READ, &err), &err);
	ok(accord_appl_del(st, "gone", &err), &err);
	ok(accord_swap_set(st, ACCORD_SWAP_DENY, "wheel", "gone", &err), &err);
	ok(accord_swap_del(st, "wheel", "gone", &err), &err);
	img = unit_build(st, 2, NULL, &len);
	st2 = reload(img, len);
	img2 = unit_build(st2, 3, NULL, &len2);
	st3 = reload(img2, len2);
	a = unit_state_fingerprint(st);
	b = unit_state_fingerprint(st2);
	c = unit_state_fingerprint(st3);
	assert_string_equal(strchr(a, '\n'), strchr(b, '\n'));
	assert_string_equal(b, c);
	assert_contains(b, "appl sshd uacc 0 1700000000 1700000000 entries(3) 1:bob:1:1001 "
			"1:carol:0:1002 2:staff:1:1000\n");
	assert_contains(b, "appl cron uacc 0 1700000000 1700000000 entries(0)\n");
	assert_not_contains(b, "gone");
	assert_contains(b, "user alice 1000 ");
	assert_contains(b, " dates 1800000000 0\n");
	assert_contains(b, " dates 0 1750000000\n");
	assert_contains(b, " dates 1800000000 1750000000\n");
	assert_contains(b, "counts 3 5 0 3 3\n");
	/* the reloaded state works as a state */
	assert_int_equal(accord_state_appl_slots(st2), 3);
	assert_int_equal(accord_state_swap_slots(st2), 3);
	assert_int_equal(appl(st2, "sshd")->nentries, 3);
	assert_int_equal(accord_appl_permit(st2, "sshd", ACCORD_ACE_USER, "bob",
					    ACCORD_ACCESS_READ, &err), 1);
	assert_int_equal(accord_swap_set(st2, ACCORD_SWAP_DENY, "dev", "alice", &err), 1);
	assert_int_equal(accord_state_user(st2, "carol")->resume_date, RESUME_AT);
	ok(accord_user_del(st2, "carol", &err), &err);
	free(a);
	free(b);
	free(c);
	free(img);
	free(img2);
	accord_state_free(st);
	accord_state_free(st2);
	accord_state_free(st3);
}

/* RACF user ID aliases: validated, unique, cleared with "", and carried
 * state -> snapshot -> reader -> state; the section is deep-verified. */
static void test_racf_id(void **state)
{
	struct accord_state *st = appl_state(), *st2;
	struct accord_err err = { 0 };
	struct accord_user_spec s;
	struct accord_snapshot sn, sn2;
	struct accord_snap_user u;
	accord_snap_why why = NULL;
	unsigned char *img, *p;
	char *before, *after;
	size_t len, k;

	(void)state;
	s = (struct accord_user_spec){ .name = "longname-user", .racf_id = "longusr" };
	ok(accord_user_add(st, &s, NULL, &err), &err);
	assert_string_equal(accord_state_user(st, "longname-user")->racf_id, "LONGUSR");
	s = (struct accord_user_spec){ .name = "alice", .racf_id = "al#1" };
	ok(accord_user_mod(st, &s, &err), &err);
	assert_string_equal(accord_state_user(st, "alice")->racf_id, "AL#1");
	/* the profile's own name needs no alias */
	s = (struct accord_user_spec){ .name = "bob", .racf_id = "BOB" };
	ok(accord_user_mod(st, &s, &err), &err);
	assert_null(accord_state_user(st, "bob")->racf_id);

	/* refusals change nothing */
	before = unit_state_fingerprint(st);
	s = (struct accord_user_spec){ .name = "bob", .racf_id = "LongUsr", .gecos = "x" };
	assert_int_equal(accord_user_mod(st, &s, &err), -EEXIST);
	assert_contains(err.msg, "already the alias of user 'longname-user'");
	s = (struct accord_user_spec){ .name = "bob", .racf_id = "carol" };
	assert_int_equal(accord_user_mod(st, &s, &err), -EEXIST);
	assert_contains(err.msg, "ambiguous");
	s = (struct accord_user_spec){ .name = "bob", .racf_id = "toolongid" };
	assert_int_equal(accord_user_mod(st, &s, &err), -EINVAL);
	s = (struct accord_user_spec){ .name = "bob", .racf_id = "a.b" };
	assert_int_equal(accord_user_mod(st, &s, &err), -EINVAL);
	s = (struct accord_user_spec){ .name = "dora", .racf_id = "AL#1" };
	assert_int_equal(accord_user_add(st, &s, NULL, &err), -EEXIST);
	s = (struct accord_user_spec){ .name = "longusr" };
	assert_int_equal(accord_user_add(st, &s, NULL, &err), -EEXIST);
	assert_contains(err.msg, "ambiguous");
	after = unit_state_fingerprint(st);
	assert_string_equal(before, after);
	assert_contains(after, "racf [LONGUSR]");
	assert_contains(after, "racf [AL#1]");
	free(before);
	free(after);

	/* round trip */
	img = unit_build(st, 2, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&sn, img, len, &why), 0);
	assert_int_equal(accord_snapshot_verify(&sn, &why), 0);
	assert_int_not_equal(sn.user_racfid.off, 0);
	assert_int_equal(sn.user_racfid.size, 2 * SNAP_USER_RACFID_ENTRY);
	assert_int_equal(accord_snap_user_by_name(&sn, "longname-user", &u), 0);
	assert_string_equal(u.racf_id, "LONGUSR");
	assert_int_equal(accord_snap_user_by_uid(&sn, u.uid, &u), 0);
	assert_string_equal(u.racf_id, "LONGUSR");
	assert_int_equal(accord_snap_user_by_name(&sn, "bob", &u), 0);
	assert_string_equal(u.racf_id, "");
	st2 = reload(img, len);
	assert_string_equal(accord_state_user(st2, "longname-user")->racf_id, "LONGUSR");
	assert_string_equal(accord_state_user(st2, "alice")->racf_id, "AL#1");
	assert_null(accord_state_user(st2, "bob")->racf_id);
	before = unit_state_fingerprint(st);
	after = unit_state_fingerprint(st2);
	assert_string_equal(strchr(before, '\n'), strchr(after, '\n'));
	free(before);
	free(after);
	/* the reloaded state still enforces uniqueness, and "" clears */
	s = (struct accord_user_spec){ .name = "bob", .racf_id = "longusr" };
	assert_int_equal(accord_user_mod(st2, &s, &err), -EEXIST);
	s = (struct accord_user_spec){ .name = "longname-user", .racf_id = "" };
	ok(accord_user_mod(st2, &s, &err), &err);
	assert_null(accord_state_user(st2, "longname-user")->racf_id);
	s = (struct accord_user_spec){ .name = "bob", .racf_id = "longusr" };
	ok(accord_user_mod(st2, &s, &err), &err);
	assert_string_equal(accord_state_user(st2, "bob")->racf_id, "LONGUSR");
	accord_state_free(st2);

	/* damage the section: deep verify and the loader refuse it */
	for (k = 0; k < 5; k++) {
		unsigned char *d;

		p = malloc(len);
		assert_non_null(p);
		memcpy(p, img, len);
		d = p + sn.user_racfid.off;
		switch (k) {
		case 0: snap_put32(d, snap_get32(d) + 8); break;          /* no record */
		case 1: memcpy(d, img + sn.user_racfid.off + SNAP_USER_RACFID_ENTRY,
			       SNAP_USER_RACFID_ENTRY); break;          /* duplicate */
		case 2: d[8] = 'a'; break;                                /* lower case */
		case 3: d[4] = 9; break;                                  /* too long */
		case 4: d[8 + d[4]] = 'X'; d[4] = 0; break;               /* empty */
		}
		unit_fix_checksums(p, len);
		assert_int_equal(accord_snapshot_open_mem(&sn2, p, len, &why), 0);
		unit_snapshot_exercise(&sn2);
		why = NULL;
		if (accord_snapshot_verify(&sn2, &why) != -EBADMSG)
			fail_msg("racf case %zu passed verify", k);
		assert_contains(why, "RACF ID");
		st2 = NULL;
		assert_int_equal(accord_state_from_snapshot(&sn2, &st2, &err), -EBADMSG);
		assert_null(st2);
		free(p);
	}
	free(img);
	accord_state_free(st);
}

static void test_snapshot_lookups(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_snapshot s;
	struct accord_snap_appl a;
	struct accord_snap_ace e;
	struct accord_snap_swap w;
	struct accord_snap_user u;
	accord_snap_why why = NULL;
	unsigned char *img;
	uint64_t cur;
	size_t len, pos = 0, n;
	char order[256] = "";

	(void)state;
	img = unit_build(st, 2, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	assert_int_equal(accord_snapshot_verify(&s, &why), 0);
	assert_int_equal(s.appl_count, 3);
	assert_int_equal(s.swap_count, 3);
	assert_int_equal(s.unknown_sections, 0);
	assert_int_equal(snap_get32(img + 40), 12);
	assert_int_equal(snap_get32(img + SNAP_HDR_APPL_COUNT), 3);
	assert_int_equal(snap_get32(img + SNAP_HDR_SWAP_COUNT), 3);
	assert_int_equal(s.user_dates.size, 3 * SNAP_USER_DATES_ENTRY);

	assert_int_equal(accord_snap_appl_by_name(&s, "sshd", &a), 0);
	assert_string_equal(a.name, "sshd");
	assert_int_equal(a.name_len, 4);
	assert_int_equal(a.uacc, ACCORD_ACCESS_NONE);
	assert_int_equal(a.nentries, 3);
	assert_int_equal(a.created, NOW0);
	assert_int_equal(accord_snap_appl_entry(&a, &pos, &e), 0);
	assert_int_equal(e.kind, ACCORD_ACE_USER);
	assert_string_equal(e.name, "bob");
	assert_int_equal(e.name_len, 3);
	assert_int_equal(e.id, accord_state_user(st, "bob")->uid);
	assert_int_equal(e.access, ACCORD_ACCESS_READ);
	assert_int_equal(accord_snap_appl_entry(&a, &pos, &e), 0);
	assert_string_equal(e.name, "carol");
	assert_int_equal(e.access, ACCORD_ACCESS_NONE);
	assert_int_equal(accord_snap_appl_entry(&a, &pos, &e), 0);
	assert_int_equal(e.kind, ACCORD_ACE_GROUP);
	assert_string_equal(e.name, "staff");
	assert_int_equal(e.id, accord_state_group(st, "staff")->gid);
	assert_int_equal(accord_snap_appl_entry(&a, &pos, &e), -ENOENT);
	assert_int_equal(accord_snap_appl_entry(&a, &pos, &e), -ENOENT);
	assert_int_equal(accord_snap_appl_by_name(&s, "login", &a), 0);
	assert_int_equal(a.uacc, ACCORD_ACCESS_READ);
	assert_int_equal(accord_snap_appl_by_name(&s, "cron", &a), 0);
	pos = 0;
	assert_int_equal(accord_snap_appl_entry(&a, &pos, &e), -ENOENT);
	assert_int_equal(accord_snap_appl_by_name(&s, "ssh", &a), -ENOENT);
	assert_int_equal(accord_snap_appl_by_name(&s, "sshd2", &a), -ENOENT);
	assert_int_equal(accord_snap_appl_by_name(&s, "", &a), -ENOENT);
	for (cur = 0, n = 0; accord_snap_appl_next(&s, &cur, &a) == 0; n++)
		;
	assert_int_equal(n, 3);

	/* swap rules come sorted by (to, from) */
	for (cur = 0; accord_snap_swap_next(&s, &cur, &w) == 0;) {
		size_t used = strlen(order);

		snprintf(order + used, sizeof(order) - used, "%s>%s:%u ", w.from, w.to, w.kind);
		assert_int_equal(w.created, NOW0);
		assert_int_equal(w.from_len, strlen(w.from));
		assert_int_equal(w.to_len, strlen(w.to));
	}
	assert_string_equal(order, "dev>alice:2 staff>bob:1 wheel>root:1 ");

	/* dates by every path: name, uid, iteration, offset */
	assert_int_equal(accord_snap_user_by_name(&s, "alice", &u), 0);
	assert_int_equal(u.revoke_date, REVOKE_AT);
	assert_int_equal(u.resume_date, 0);
	assert_int_equal(accord_snap_user_by_uid(&s, u.uid, &u), 0);
	assert_int_equal(u.revoke_date, REVOKE_AT);
	assert_int_equal(accord_snap_user_at(&s, u.off, &u), 0);
	assert_int_equal(u.revoke_date, REVOKE_AT);
	for (cur = 0, n = 0; accord_snap_user_next(&s, &cur, &u) == 0; n++) {
		const struct accord_user *su = accord_state_user(st, u.name);

		assert_int_equal(u.revoke_date, su->revoke_date);
		assert_int_equal(u.resume_date, su->resume_date);
	}
	assert_int_equal(n, 3);

	/* user_in_gid: primary and supplementary */
	assert_int_equal(accord_snap_user_by_name(&s, "carol", &u), 0);
	assert_true(accord_snap_user_in_gid(&u, accord_state_group(st, "staff")->gid));
	assert_true(accord_snap_user_in_gid(&u, accord_state_group(st, "dev")->gid));
	assert_false(accord_snap_user_in_gid(&u, accord_state_group(st, "wheel")->gid));
	assert_false(accord_snap_user_in_gid(&u, 0));
	assert_int_equal(accord_snap_user_by_name(&s, "alice", &u), 0);
	assert_true(accord_snap_user_in_gid(&u, u.gid));
	assert_true(accord_snap_user_in_gid(&u, accord_state_group(st, "staff")->gid));
	assert_false(accord_snap_user_in_gid(&u, accord_state_group(st, "dev")->gid));
	unit_snapshot_exercise(&s);
	free(img);
	accord_state_free(st);
}

/* A snapshot without applications, rules or dates has none of the new
 * sections and zero header words: exactly what the first readers wrote. */
static void test_no_optional_sections(void **state)
{
	static const unsigned char zero[28];
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	struct accord_snap_appl a;
	struct accord_snap_swap w;
	struct accord_snap_user u;
	accord_snap_why why = NULL;
	unsigned char *img;
	uint64_t cur = 0;
	size_t len;

	(void)state;
	ok(unit_add(st, "alice", &err), &err);
	ok(accord_appl_add(st, "gone", ACCORD_ACCESS_READ, &err), &err);
	ok(accord_appl_del(st, "gone", &err), &err);
	img = unit_build(st, 2, NULL, &len);
	assert_int_equal(snap_get32(img + 40), 8);
	assert_memory_equal(img + 92, zero, 28);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	assert_int_equal(accord_snapshot_verify(&s, &why), 0);
	assert_int_equal(s.appl_count + s.swap_count + s.unknown_sections, 0);
	assert_int_equal(s.appls.size + s.appl_by_name.size + s.swaps.size + s.user_dates.size, 0);
	assert_int_equal(accord_snap_appl_by_name(&s, "gone", &a), -ENOENT);
	assert_int_equal(accord_snap_appl_next(&s, &cur, &a), -ENOENT);
	assert_int_equal(accord_snap_swap_next(&s, &cur, &w), -ENOENT);
	assert_int_equal(accord_snap_user_by_name(&s, "alice", &u), 0);
	assert_int_equal(u.revoke_date + u.resume_date, 0);
	unit_snapshot_exercise(&s);
	free(img);
	accord_state_free(st);
}

/*
 * The image with one more section of type `type` (8 bytes at the end of
 * the file): the table grows by one entry, everything after it moves by
 * 24 bytes (a multiple of 8), and the header is made right again.
 */
static unsigned char *add_section(const unsigned char *img, size_t len, uint32_t type,
				  size_t *out_len)
{
	uint32_t nsec = snap_get32(img + 40), i;
	size_t table_end = SNAP_HEADER_SIZE + (size_t)nsec * SNAP_SECTION_ENTRY;
	size_t nlen = len + SNAP_SECTION_ENTRY + 8;
	unsigned char *p = calloc(1, nlen), *e;

	assert_non_null(p);
	memcpy(p, img, table_end);
	memcpy(p + table_end + SNAP_SECTION_ENTRY, img + table_end, len - table_end);
	for (i = 0; i < nsec; i++) {
		e = p + SNAP_HEADER_SIZE + (size_t)i * SNAP_SECTION_ENTRY;
		snap_put64(e + 8, snap_get64(e + 8) + SNAP_SECTION_ENTRY);
	}
	e = p + table_end;
	snap_put32(e, type);
	snap_put64(e + 8, nlen - 8);
	snap_put64(e + 16, 8);
	memcpy(p + nlen - 8, "FUTURE!", 8);
	snap_put32(p + 40, nsec + 1);
	snap_put64(p + 24, nlen);
	unit_fix_checksums(p, nlen);
	*out_len = nlen;
	return p;
}

/* A newer writer's section: readers skip it, an older writer refuses to
 * rewrite the snapshot rather than drop it. */
static void test_loader_refuses_unknown_sections(void **state)
{
	struct accord_state *st = appl_state(), *st2 = NULL;
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	struct accord_snap_user u;
	struct accord_snap_appl a;
	accord_snap_why why = NULL;
	unsigned char *img, *img2;
	size_t len, len2;

	(void)state;
	img = unit_build(st, 2, NULL, &len);
	img2 = add_section(img, len, 200, &len2);
	assert_int_equal(accord_snapshot_open_mem(&s, img2, len2, &why), 0);
	assert_int_equal(s.unknown_sections, 1);
	assert_int_equal(accord_snapshot_verify(&s, &why), 0);
	assert_int_equal(accord_snap_user_by_name(&s, "carol", &u), 0);
	assert_int_equal(u.resume_date, RESUME_AT);
	assert_int_equal(accord_snap_appl_by_name(&s, "sshd", &a), 0);
	unit_snapshot_exercise(&s);
	assert_int_equal(accord_state_from_snapshot(&s, &st2, &err), -EPROTONOSUPPORT);
	assert_null(st2);
	assert_int_equal(err.code, -EPROTONOSUPPORT);
	assert_string_equal(err.msg, "the snapshot has sections this accordctl does not know "
			    "(written by a newer version); refusing to rewrite it");
	free(img2);
	/* the same image without the extra section loads */
	st2 = reload(img, len);
	accord_state_free(st2);
	/* known types keep their meaning: a second swaps section is a duplicate */
	img2 = add_section(img, len, SNAP_SEC_SWAPS, &len2);
	assert_int_equal(accord_snapshot_open_mem(&s, img2, len2, &why), -EBADMSG);
	assert_contains(why, "duplicate");
	free(img2);
	free(img);
	accord_state_free(st);
}

/* Deep-check refusals of damage in the new sections, with the checksums
 * made right so that only the record checks can see it (more in
 * test_hostile.c). */
static void test_verify_new_sections(void **state)
{
	struct accord_state *st = appl_state();
	struct accord_snapshot s0, s;
	struct accord_snap_appl a;
	struct accord_snap_swap w;
	accord_snap_why why = NULL;
	unsigned char *img, *p;
	size_t len, k;
	struct {
		const char *what;
		const char *why;
	} cases[] = {
		{ "entry id", "names a user that does not exist" },
		{ "entry group id", "names a group that does not exist" },
		{ "entry order", "not sorted or has duplicates" },
		{ "entry count", "entry count does not match" },
		{ "swap from", "swap rule names a group that does not exist" },
		{ "swap order", "swap rules are not sorted" },
		{ "appl count", "application count does not match" },
		{ "swap count", "swap rule count does not match" },
		{ "date offset", "belongs to no user record" },
		{ "date order", "not sorted or have duplicates" },
		{ "date negative", "malformed" },
		{ "date empty", "malformed" },
		{ "date reserved", "malformed" },
	};

	(void)state;
	img = unit_build(st, 2, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&s0, img, len, &why), 0);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		unsigned char *d;

		p = malloc(len);
		assert_non_null(p);
		memcpy(p, img, len);
		assert_int_equal(accord_snap_appl_by_name(&s0, "sshd", &a), 0);
		d = p + s0.user_dates.off;
		switch (k) {
		case 0: /* bob's entry: another UID */
			snap_put32(p + (a.entries - img) + 4, 4242);
			break;
		case 1: /* staff's entry (the third): another GID */
			snap_put32(p + (a.entries - img) + a.entries_len - 16 + 4, 4242);
			break;
		case 2: /* carol's entry (the second) renamed bob: a duplicate */
			memcpy(p + (a.entries - img) + 16 + 8, "bob\0\0", 5);
			snap_put16(p + (a.entries - img) + 16 + 2, 3);
			snap_put32(p + (a.entries - img) + 16 + 4, accord_state_user(st, "bob")->uid);
			break;
		case 3:
			snap_put32(p + a.off + s0.appls.off, 2);
			break;
		case 4: { /* the first rule's from: "dev" -> "dew" */
			uint64_t cur = 0;

			assert_int_equal(accord_snap_swap_next(&s0, &cur, &w), 0);
			p[(const unsigned char *)w.from - img + 2] = 'w';
			break;
		}
		case 5: { /* "staff>bob" -> "staff>abb": before "dev>alice" */
			uint64_t cur = 0;

			assert_int_equal(accord_snap_swap_next(&s0, &cur, &w), 0);
			assert_int_equal(accord_snap_swap_next(&s0, &cur, &w), 0);
			assert_string_equal(w.to, "bob");
			p[(const unsigned char *)w.to - img] = 'a';
			p[(const unsigned char *)w.to - img + 1] = 'b';
			break;
		}
		case 6:
			snap_put32(p + SNAP_HDR_APPL_COUNT, 4);
			break;
		case 7:
			snap_put32(p + SNAP_HDR_SWAP_COUNT, 2);
			break;
		case 8:
			snap_put32(d, snap_get32(d) + 8);
			break;
		case 9: /* the first two entries swapped */
			memcpy(d, img + s0.user_dates.off + SNAP_USER_DATES_ENTRY,
			       SNAP_USER_DATES_ENTRY);
			memcpy(d + SNAP_USER_DATES_ENTRY, img + s0.user_dates.off,
			       SNAP_USER_DATES_ENTRY);
			break;
		case 10:
			snap_put64(d + 8, (uint64_t)-1);
			break;
		case 11: /* alice's entry: revoke date only, cleared */
			snap_put64(d + 8, 0);
			break;
		case 12:
			snap_put32(d + 4, 1);
			break;
		}
		unit_fix_checksums(p, len);
		assert_int_equal(accord_snapshot_open_mem(&s, p, len, &why), 0);
		unit_snapshot_exercise(&s);
		why = NULL;
		if (accord_snapshot_verify(&s, &why) != -EBADMSG)
			fail_msg("case '%s' passed verify", cases[k].what);
		if (!strstr(why, cases[k].why))
			fail_msg("case '%s': verify says '%s', want '%s'", cases[k].what, why,
				 cases[k].why);
		/* and the writer's loader refuses it too */
		{
			struct accord_state *bad = NULL;
			struct accord_err err = { 0 };

			if (k != 0 && k != 1 && /* IDs are rebuilt, not loaded */
			    accord_state_from_snapshot(&s, &bad, &err) != -EBADMSG)
				fail_msg("case '%s' loaded", cases[k].what);
			if (k <= 1) {
				assert_int_equal(accord_state_from_snapshot(&s, &bad, &err), 0);
				accord_state_free(bad);
			}
		}
		free(p);
	}
	free(img);
	accord_state_free(st);
}

/* Many applications: every one found through the index, absent names
 * not, the deep check and the loader at that size. */
static void test_many_appls(void **state)
{
	struct accord_state *st = unit_state(), *st2;
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	struct accord_snap_appl a;
	struct accord_snap_ace e;
	accord_snap_why why = NULL;
	unsigned char *img;
	char name[32];
	size_t len, pos;
	unsigned i;

	(void)state;
	ok(accord_group_add(st, "staff", false, 0, false, &err), &err);
	ok(unit_add(st, "alice", &err), &err);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "app%05u", i);
		ok(accord_appl_add(st, name, i % 2, &err), &err);
		if (i % 3 == 0)
			ok(accord_appl_permit(st, name, ACCORD_ACE_USER, "alice",
					      ACCORD_ACCESS_READ, &err), &err);
		if (i % 5 == 0)
			ok(accord_appl_permit(st, name, ACCORD_ACE_GROUP, "staff",
					      ACCORD_ACCESS_NONE, &err), &err);
	}
	img = unit_build(st, 2, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	if (accord_snapshot_verify(&s, &why) != 0)
		fail_msg("verify: %s", why);
	assert_int_equal(s.appl_count, 10000);
	for (i = 0; i < 10000; i++) {
		uint32_t n = 0;

		snprintf(name, sizeof(name), "app%05u", i);
		assert_int_equal(accord_snap_appl_by_name(&s, name, &a), 0);
		assert_string_equal(a.name, name);
		assert_int_equal(a.uacc, i % 2);
		for (pos = 0; accord_snap_appl_entry(&a, &pos, &e) == 0; n++)
			;
		assert_int_equal(n, (i % 3 == 0) + (i % 5 == 0));
		assert_int_equal(a.nentries, n);
		snprintf(name, sizeof(name), "app%05ux", i);
		assert_int_equal(accord_snap_appl_by_name(&s, name, &a), -ENOENT);
	}
	assert_int_equal(accord_snap_appl_by_name(&s, "app10000", &a), -ENOENT);
	st2 = reload(img, len);
	assert_non_null(accord_state_appl(st2, "app09999"));
	assert_int_equal(accord_appl_del(st2, "app00000", &err), 0);
	assert_null(accord_state_appl(st2, "app00000"));
	assert_non_null(accord_state_appl(st2, "app00001"));
	accord_state_free(st2);
	free(img);
	accord_state_free(st);
}

/* ---- the journal ------------------------------------------------------------ */

/* The journal lines of the changes from old to st, one per line. */
static char *journal_of(const struct accord_snapshot *old, const struct accord_state *st,
			size_t *n)
{
	struct journal_diff d;
	struct accord_actor actor;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	unit_actor(&actor);
	assert_int_equal(journal_diff(old, st, &d), 0);
	*n = d.n;
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	assert_int_equal(journal_write(f, old->generation + 1, NOW1, &actor, "test", old, st, &d),
			 0);
	fclose(f);
	journal_diff_free(&d);
	return out;
}

/* The one line of text with "kind":kind and "name":name. */
static json_object *jline(const char *text, const char *kind, const char *name)
{
	char k[64], nm[96];
	const char *p = text;

	snprintf(k, sizeof(k), "\"kind\":\"%s\"", kind);
	snprintf(nm, sizeof(nm), "\"name\":\"%s\"", name);
	while (p && *p) {
		const char *end = strchr(p, '\n');
		char *line = strndup(p, end ? (size_t)(end - p) : strlen(p));

		assert_non_null(line);
		if (strstr(line, k) && strstr(line, nm) && strstr(line, "\"change\"")) {
			json_object *o = json_tokener_parse(line);

			free(line);
			assert_non_null(o);
			return o;
		}
		free(line);
		p = end ? end + 1 : NULL;
	}
	fail_msg("no %s %s line in:\n%s", kind, name, text);
	return NULL;
}

static const char *jget(json_object *o, const char *path1, const char *path2)
{
	json_object *v = o;

	if (!json_object_object_get_ex(v, path1, &v))
		return NULL;
	if (path2 && !json_object_object_get_ex(v, path2, &v))
		return NULL;
	return v ? json_object_get_string(v) : NULL;
}

static void test_journal(void **state)
{
	struct accord_state *st = appl_state(), *st2;
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	struct accord_user_spec us = { .name = "bob", .has_resume_date = true };
	accord_snap_why why = NULL;
	json_object *o;
	unsigned char *img;
	size_t len, n;
	char *text;

	(void)state;
	img = unit_build(st, 2, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);

	/* loaded and untouched: no changes */
	st2 = reload(img, len);
	text = journal_of(&s, st2, &n);
	assert_int_equal(n, 0);
	free(text);

	accord_state_set_actor(st2, NOW1, "root");
	ok(accord_appl_add(st2, "su", ACCORD_ACCESS_READ, &err), &err);
	ok(accord_appl_permit(st2, "sshd", ACCORD_ACE_USER, "carol", ACCORD_ACCESS_READ, &err),
	   &err);
	ok(accord_appl_del(st2, "cron", &err), &err);
	ok(accord_swap_set(st2, ACCORD_SWAP_DENY, "wheel", "root", &err), &err);
	ok(accord_swap_set(st2, ACCORD_SWAP_PERMIT, "wheel", "postgres", &err), &err);
	ok(accord_swap_del(st2, "staff", "bob", &err), &err);
	ok(accord_user_mod(st2, &us, &err), &err); /* bob's resume date cleared */
	text = journal_of(&s, st2, &n);
	assert_int_equal(n, 7);

	o = jline(text, "appl", "su");
	assert_string_equal(jget(o, "change", NULL), "add");
	assert_null(jget(o, "before", NULL));
	assert_string_equal(jget(o, "after", "uacc"), "read");
	json_object_put(o);
	o = jline(text, "appl", "sshd");
	assert_string_equal(jget(o, "change", NULL), "change");
	assert_contains(accord_json_line(o),
			"\"before\":{\"name\":\"sshd\",\"uacc\":\"none\",\"entries\":["
			"{\"type\":\"user\",\"name\":\"bob\",\"access\":\"read\"},"
			"{\"type\":\"user\",\"name\":\"carol\",\"access\":\"none\"},");
	assert_contains(accord_json_line(o),
			"{\"type\":\"user\",\"name\":\"carol\",\"access\":\"read\"},"
			"{\"type\":\"group\",\"name\":\"staff\",\"access\":\"read\"}]");
	assert_string_equal(jget(o, "after", "changed"), "2023-11-14T22:21:40Z");
	json_object_put(o);
	o = jline(text, "appl", "cron");
	assert_string_equal(jget(o, "change", NULL), "delete");
	assert_null(jget(o, "after", NULL));
	assert_string_equal(jget(o, "before", "name"), "cron");
	json_object_put(o);
	o = jline(text, "swap", "wheel->root");
	assert_string_equal(jget(o, "change", NULL), "change");
	assert_string_equal(jget(o, "before", "kind"), "permit");
	assert_string_equal(jget(o, "after", "kind"), "deny");
	assert_string_equal(jget(o, "after", "from"), "wheel");
	assert_string_equal(jget(o, "after", "to"), "root");
	json_object_put(o);
	o = jline(text, "swap", "wheel->postgres");
	assert_string_equal(jget(o, "change", NULL), "add");
	json_object_put(o);
	o = jline(text, "swap", "staff->bob");
	assert_string_equal(jget(o, "change", NULL), "delete");
	assert_string_equal(jget(o, "before", "kind"), "permit");
	json_object_put(o);
	o = jline(text, "user", "bob");
	assert_string_equal(jget(o, "change", NULL), "change");
	assert_string_equal(jget(o, "before", "resume_date"), "2025-06-15T15:06:40Z");
	assert_null(jget(o, "after", "resume_date"));
	json_object_put(o);
	free(text);
	accord_state_free(st2);

	/* the cascades are journaled: user del shows the access lists it
	 * changed, group del the rules it removed */
	st2 = reload(img, len);
	accord_state_set_actor(st2, NOW1, "root");
	ok(accord_user_del(st2, "bob", &err), &err);
	ok(accord_group_del(st2, "dev", &err), &err);
	text = journal_of(&s, st2, &n);
	o = jline(text, "appl", "sshd");
	assert_string_equal(jget(o, "change", NULL), "change");
	assert_not_contains(jget(o, "after", "entries"), "bob");
	json_object_put(o);
	o = jline(text, "swap", "dev->alice");
	assert_string_equal(jget(o, "change", NULL), "delete");
	json_object_put(o);
	free(text);
	accord_state_free(st2);
	free(img);
	accord_state_free(st);
}

/* Through a registry: a change to applications alone is a change (it is
 * committed and journaled), nothing at all is not. */
static void test_registry_commit(void **state)
{
	struct accord_range r = { 1000, 1999 };
	struct accord_actor actor;
	struct accord_config cfg;
	struct accord_registry *reg = NULL;
	struct accord_txn *tx = NULL;
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	struct accord_snap_appl a;
	char *base = unit_mkdtemp(), *dir = unit_path(base, "reg");
	uint64_t gen = 0;
	size_t n = 0;

	(void)state;
	unit_actor(&actor);
	accord_config_defaults(&cfg);
	cfg.lock_timeout = 1;
	ok(accord_registry_init(dir, &r, &r, &actor, &err), &err);
	ok(accord_registry_open(dir, &cfg, &reg, &err), &err);
	ok(accord_txn_begin(reg, &actor, &tx, &err), &err);
	ok(accord_appl_add(accord_txn_state(tx), "sshd", ACCORD_ACCESS_READ, &err), &err);
	ok(accord_txn_commit(tx, "appl add sshd", &gen, &n, &err), &err);
	assert_int_equal(gen, 2);
	assert_int_equal(n, 1);
	ok(accord_txn_begin(reg, &actor, &tx, &err), &err);
	assert_int_equal(accord_appl_set_uacc(accord_txn_state(tx), "sshd", ACCORD_ACCESS_READ,
					      &err), 1);
	ok(accord_txn_commit(tx, "appl mod sshd", &gen, &n, &err), &err);
	assert_int_equal(gen, 2);
	assert_int_equal(n, 0);
	ok(accord_registry_current(reg, true, &s, &err), &err);
	assert_int_equal(accord_snap_appl_by_name(&s, "sshd", &a), 0);
	assert_int_equal(a.uacc, ACCORD_ACCESS_READ);
	accord_snapshot_unmap(&s);
	accord_registry_close(reg);
	unit_rmtree(base);
	free(dir);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appl_ops),
		cmocka_unit_test(test_swap_ops),
		cmocka_unit_test(test_user_dates),
		cmocka_unit_test(test_refused_ops_change_nothing),
		cmocka_unit_test(test_fingerprint_sees_changes),
		cmocka_unit_test(test_cascade_user_del),
		cmocka_unit_test(test_cascade_group_del),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_racf_id),
		cmocka_unit_test(test_snapshot_lookups),
		cmocka_unit_test(test_no_optional_sections),
		cmocka_unit_test(test_loader_refuses_unknown_sections),
		cmocka_unit_test(test_verify_new_sections),
		cmocka_unit_test(test_many_appls),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_registry_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
