/* SPDX-License-Identifier: MIT */
/*
 * Logon decisions (common/policy.c): every reason of every phase, the
 * failure count and its revoke, inactivity, protected profiles, failing
 * closed, password changes, APPL access (highest wins, primary group,
 * uacc, undefined, protect_all) and swap rules (self, swap_never, deny
 * wins, permit, no rule, system requesters).  Snapshots are built in
 * memory from a state; the secrets store is a real directory.
 */
#include "logon_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <accord/passticket.h>
#include <accord/policy.h>
#include <accord/ptstore.h>

#define T0 1790000000            /* when the profiles were created */
#define NOW (T0 + 10 * 86400)

struct fx {
	char *dir;
	struct accord_secrets *s;
	struct accord_config cfg;
	struct accord_state *st;
	unsigned char *img;
	struct accord_snapshot snap;
};

static void must(int r, const struct accord_err *err, const char *what)
{
	if (r < 0)
		fail_msg("%s: %s", what, err->msg);
}

static void revoke_dates(struct accord_state *st, const char *name, int64_t revoke,
			 int64_t resume)
{
	struct accord_user_spec s = {
		.name = name, .has_revoke_date = true, .revoke_date = revoke,
		.has_resume_date = true, .resume_date = resume,
	};
	struct accord_err err = { 0 };

	must(accord_user_mod(st, &s, &err), &err, "user mod");
}

static void rebuild(struct fx *f)
{
	free(f->img);
	f->img = lt_snapshot(f->st, 7, &f->snap);
}

static struct accord_profile_ref ref(struct fx *f, const char *name)
{
	const struct accord_user *u = accord_state_user(f->st, name);

	assert_non_null(u);
	return (struct accord_profile_ref){ .name = name, .uid = u->uid, .created = u->created };
}

static void set_pw(struct fx *f, const char *name, const char *pw)
{
	struct accord_profile_ref p = ref(f, name);
	struct accord_err err = { 0 };

	must(accord_secret_set(f->s, &p, pw, &err), &err, "secret set");
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct accord_err err = { 0 };

	assert_non_null(f);
	f->dir = lt_mkdtemp();
	must(accord_secrets_open(f->dir, true, &f->s, &err), &err, "secrets open");
	accord_config_defaults(&f->cfg);
	f->st = lt_state(T0);
	lt_group(f->st, "ops");
	lt_group(f->st, "wheel");
	lt_group(f->st, "interns");
	lt_group(f->st, "root");   /* an accord group named like the system one */
	lt_user(f->st, "alice", "ops,wheel");
	lt_user(f->st, "bob", NULL);
	lt_user(f->st, "carol", NULL);
	lt_user(f->st, "dave", NULL);
	lt_user(f->st, "dave2", NULL);
	lt_user(f->st, "erin", NULL);
	lt_user(f->st, "erin2", NULL);
	lt_user(f->st, "erin3", NULL);
	lt_user(f->st, "erin4", NULL);
	lt_user(f->st, "frank", NULL);
	lt_user(f->st, "gina", NULL);
	lt_user(f->st, "henry", "interns");
	lt_user(f->st, "ivan", "wheel,interns");
	lt_user(f->st, "svc", NULL);
	must(accord_user_status_op(f->st, "bob", ACCORD_OP_DISABLE, "on leave", &err), &err,
	     "disable");
	must(accord_user_status_op(f->st, "carol", ACCORD_OP_REVOKE, "left", &err), &err,
	     "revoke");
	must(accord_user_status_op(f->st, "dave", ACCORD_OP_REVOKE, NULL, &err), &err, "revoke");
	revoke_dates(f->st, "dave", 0, NOW - 10);       /* resume reached */
	must(accord_user_status_op(f->st, "dave2", ACCORD_OP_REVOKE, NULL, &err), &err, "revoke");
	revoke_dates(f->st, "dave2", 0, NOW + 100);     /* resume not yet */
	revoke_dates(f->st, "erin", NOW - 10, 0);       /* revoke date reached */
	revoke_dates(f->st, "erin2", NOW - 100, NOW - 10); /* and resumed */
	revoke_dates(f->st, "erin3", NOW + 100, 0);     /* not yet */
	revoke_dates(f->st, "erin4", NOW - 10, NOW - 100); /* resume before revoke */
	must(accord_user_set_flag(f->st, "frank", ACCORD_F_PROTECTED, true, &err), &err,
	     "protected");
	must(accord_user_set_flag(f->st, "gina", ACCORD_F_NO_PASSWORD, true, &err), &err,
	     "no password");
	rebuild(f);
	set_pw(f, "alice", "alice-secret-1");
	set_pw(f, "frank", "frank-secret-1");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	accord_secrets_close(f->s);
	accord_state_free(f->st);
	free(f->img);
	lt_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static struct accord_logon_ctx ctx_for(struct fx *f, const char *user)
{
	return (struct accord_logon_ctx){
		.cfg = &f->cfg, .snap = &f->snap, .secrets = f->s, .user = user,
		.appl = "sshd", .now = NOW,
	};
}

#define assert_reason(got, want, d)                                            \
	do {                                                                   \
		enum accord_reason g_ = (got), w_ = (want);                    \
		if (g_ != w_)                                                  \
			fail_msg("reason %s, expected %s (detail: %s)",        \
				 accord_reason_name(g_), accord_reason_name(w_), \
				 (d)->detail);                                 \
		assert_int_equal((d)->reason, w_);                             \
	} while (0)

static void test_reason_names(void **state)
{
	static const char *const want[] = {
		"ok", "bad_secret", "unknown_user", "disabled", "revoked", "revoked_failures",
		"revoked_inactive", "expired", "protected", "no_password", "method_refused",
		"appl_denied", "swap_denied", "password_rejected", "internal_error",
		"replay", "ticket_expired", "no_key", "no_certificate", "cert_pop_failed",
		"cert_invalid", "cert_unmapped", "cert_notrust", "cert_user_mismatch",
	};
	int i;

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), ACCORD_R_COUNT);
	for (i = 0; i < ACCORD_R_COUNT; i++)
		assert_string_equal(accord_reason_name((enum accord_reason)i), want[i]);
	assert_string_equal(accord_reason_name(ACCORD_R_COUNT), "internal_error");
	assert_string_equal(accord_reason_name((enum accord_reason)-1), "internal_error");
}

static void test_status(void **state)
{
	static const struct {
		const char *user;
		enum accord_reason account, pre;
	} cases[] = {
		{ "alice", ACCORD_R_OK, ACCORD_R_OK },
		{ "bob", ACCORD_R_DISABLED, ACCORD_R_DISABLED },
		{ "carol", ACCORD_R_REVOKED, ACCORD_R_REVOKED },
		{ "dave", ACCORD_R_OK, ACCORD_R_OK },
		{ "dave2", ACCORD_R_REVOKED, ACCORD_R_REVOKED },
		{ "erin", ACCORD_R_EXPIRED, ACCORD_R_EXPIRED },
		{ "erin2", ACCORD_R_OK, ACCORD_R_OK },
		{ "erin3", ACCORD_R_OK, ACCORD_R_OK },
		{ "erin4", ACCORD_R_EXPIRED, ACCORD_R_EXPIRED },
		{ "frank", ACCORD_R_PROTECTED, ACCORD_R_PROTECTED },
		{ "gina", ACCORD_R_OK, ACCORD_R_NO_PASSWORD },
		{ "zed", ACCORD_R_UNKNOWN_USER, ACCORD_R_UNKNOWN_USER },
	};
	struct fx *f = *state;
	struct accord_decision d;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct accord_logon_ctx c = ctx_for(f, cases[i].user);

		print_message("%s\n", cases[i].user);
		assert_reason(accord_decide_account(&c, &d), cases[i].account, &d);
		assert_int_equal(d.known, cases[i].account != ACCORD_R_UNKNOWN_USER);
		if (d.known)
			assert_string_equal(d.user.name, cases[i].user);
		assert_int_equal(d.failures, -1);
		assert_true(d.detail[0] != '\0');
		assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d),
			      cases[i].pre, &d);
		assert_reason(accord_check_status(&c, &d),
			      cases[i].account == ACCORD_R_OK ? ACCORD_R_OK : cases[i].account,
			      &d);
	}
	/* details say why */
	{
		struct accord_logon_ctx c = ctx_for(f, "carol");

		accord_decide_account(&c, &d);
		assert_contains(d.detail, "left");
		c = ctx_for(f, "zed");
		accord_decide_account(&c, &d);
		assert_contains(d.detail, "zed");
	}
	/* a batch stack may run a protected profile */
	{
		struct accord_logon_ctx c = ctx_for(f, "frank");

		c.batch = true;
		assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
		assert_reason(accord_check_status(&c, &d), ACCORD_R_OK, &d);
	}
	/* a method this module does not know */
	{
		struct accord_logon_ctx c = ctx_for(f, "alice");

		assert_reason(accord_decide_auth_pre(&c, 0, &d), ACCORD_R_METHOD_REFUSED, &d);
		assert_reason(accord_decide_auth_pre(&c, 0x80, &d), ACCORD_R_METHOD_REFUSED,
			      &d);
		c.user = "gina";
		assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD | 0x80, &d),
			      ACCORD_R_NO_PASSWORD, &d);
	}
	/* erin3's revoke date comes */
	{
		struct accord_logon_ctx c = ctx_for(f, "erin3");

		c.now = NOW + 100;
		assert_reason(accord_decide_account(&c, &d), ACCORD_R_EXPIRED, &d);
		c.user = "dave2";
		assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
	}
}

static void test_password(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_decision d;
	struct accord_profile_ref a = ref(f, "alice");
	struct accord_logon_rec rec;
	struct accord_err err = { 0 };
	int i;

	for (i = 1; i <= 4; i++) {
		assert_reason(accord_decide_password(&c, "wrong", &d), ACCORD_R_BAD_SECRET, &d);
		assert_int_equal(d.failures, i);
		assert_true(d.known);
		assert_not_contains(d.detail, "wrong");
	}
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d), ACCORD_R_OK, &d);
	assert_int_equal(d.failures, 0);
	assert_int_equal(accord_logon_read(f->s, &a, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.last_success, NOW);
	assert_not_contains(d.detail, "alice-secret-1");

	/* revoke_after (5) bad ones in a row revoke, on the 5th */
	for (i = 1; i <= 4; i++)
		assert_reason(accord_decide_password(&c, "wrong", &d), ACCORD_R_BAD_SECRET, &d);
	assert_reason(accord_decide_password(&c, "wrong", &d), ACCORD_R_REVOKED_FAILURES, &d);
	assert_int_equal(d.failures, 5);
	/* and every phase sees it from then on */
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d),
		      ACCORD_R_REVOKED_FAILURES, &d);
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_REVOKED_FAILURES, &d);
	assert_reason(accord_decide_chauthtok(&c, NULL, "a-new-password", &d),
		      ACCORD_R_REVOKED_FAILURES, &d);
	/* accordctl user resume */
	assert_int_equal(accord_logon_reset(f->s, &a, NOW, &err), 0);
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);

	/* a profile with no password stored: a bad secret, counted */
	c.user = "henry";
	assert_reason(accord_decide_password(&c, "anything", &d), ACCORD_R_BAD_SECRET, &d);
	assert_int_equal(d.failures, 1);
	assert_contains(d.detail, "none stored");
	/* revoke_after 0: never revoked */
	f->cfg.revoke_after = 0;
	for (i = 0; i < 8; i++)
		assert_reason(accord_decide_password(&c, "x", &d), ACCORD_R_BAD_SECRET, &d);
	assert_int_equal(d.failures, 9);
	/* a lowered limit revokes at the next failure, and says so */
	f->cfg.revoke_after = 3;
	assert_reason(accord_decide_password(&c, "x", &d), ACCORD_R_REVOKED_FAILURES, &d);
	assert_int_equal(d.failures, 10);

	/* unknown user: unknown_user, nothing counted anywhere */
	c.user = "zed";
	assert_reason(accord_decide_password(&c, "x", &d), ACCORD_R_UNKNOWN_USER, &d);
	assert_false(d.known);
	assert_int_equal(d.failures, -1);
}

static void test_protected(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "frank");
	struct accord_profile_ref fr = ref(f, "frank");
	struct accord_logon_rec rec;
	struct accord_err err = { 0 };
	struct accord_decision d;
	int i;

	/* never counted, never revoked by failures */
	f->cfg.revoke_after = 1;
	for (i = 0; i < 3; i++) {
		assert_reason(accord_decide_password(&c, "wrong", &d), ACCORD_R_BAD_SECRET, &d);
		assert_int_equal(d.failures, -1);
	}
	assert_int_equal(accord_logon_read(f->s, &fr, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.revoked, 0);
	/* nor by inactivity */
	f->cfg.inactive_days = 1;
	c.batch = true;
	c.now = NOW + 400 * 86400;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
	/* but an administrator's revoke holds */
	{
		struct accord_err e2 = { 0 };

		must(accord_user_status_op(f->st, "frank", ACCORD_OP_REVOKE, NULL, &e2), &e2,
		     "revoke");
		rebuild(f);
	}
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_REVOKED, &d);
}

static void test_inactive(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_profile_ref a = ref(f, "alice"), h = ref(f, "henry");
	struct accord_logon_rec rec;
	struct accord_err err = { 0 };
	struct accord_decision d;

	f->cfg.inactive_days = 30;
	/* 30 days after creation: still fine */
	c.now = T0 + 30 * 86400;
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d), ACCORD_R_OK, &d);
	/* a second more: revoked, and recorded (RACF: at the next attempt) */
	c.now = T0 + 30 * 86400 + 1;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_REVOKED_INACTIVE, &d);
	assert_int_equal(accord_logon_read(f->s, &a, &rec, &err), 0);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_INACTIVE);
	assert_int_equal(rec.revoked_at, c.now);
	/* it stays after inactive_days is switched off */
	f->cfg.inactive_days = 0;
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d),
		      ACCORD_R_REVOKED_INACTIVE, &d);
	/* the right password does not get past a revoked record either */
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d),
		      ACCORD_R_REVOKED_INACTIVE, &d);
	assert_int_equal(d.failures, -1);
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_REVOKED_INACTIVE, &d);
	/* resume: last_success = now, so it does not strike again at once */
	f->cfg.inactive_days = 30;
	assert_int_equal(accord_logon_reset(f->s, &a, c.now, &err), 0);
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);

	/* a recent logon keeps a profile active; the account phase records it */
	c.user = "henry";
	c.now = T0 + 20 * 86400;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
	assert_int_equal(accord_logon_read(f->s, &h, &rec, &err), 0);
	assert_int_equal(rec.last_success, c.now);
	c.now = T0 + 45 * 86400;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
	c.now = T0 + 76 * 86400;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_REVOKED_INACTIVE, &d);
}

static void test_fail_closed(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_decision d;
	char *rfile;

	/* no secrets store */
	c.secrets = NULL;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_INTERNAL_ERROR, &d);
	assert_contains(d.detail, "secrets store");
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d),
		      ACCORD_R_INTERNAL_ERROR, &d);
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d),
		      ACCORD_R_INTERNAL_ERROR, &d);
	assert_reason(accord_decide_chauthtok(&c, NULL, "a-new-password", &d),
		      ACCORD_R_INTERNAL_ERROR, &d);
	/* no config or snapshot */
	c = ctx_for(f, "alice");
	c.cfg = NULL;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_INTERNAL_ERROR, &d);
	c = ctx_for(f, "alice");
	c.snap = NULL;
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d),
		      ACCORD_R_INTERNAL_ERROR, &d);
	c = ctx_for(f, "alice");
	c.appl = NULL;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_INTERNAL_ERROR, &d);

	/* a damaged logon record */
	c = ctx_for(f, "alice");
	rfile = lt_fmt("%s/secrets/logon/alice", f->dir);
	lt_write_file(rfile, "this is not a logon record", 26, 0600);
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_INTERNAL_ERROR, &d);
	assert_contains(d.detail, "damaged");
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d),
		      ACCORD_R_INTERNAL_ERROR, &d);
	assert_reason(accord_decide_password(&c, "wrong", &d), ACCORD_R_INTERNAL_ERROR, &d);
	/* an untrusted one */
	assert_int_equal(unlink(rfile), 0);
	lt_write_file(rfile, "", 0, 0644);
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_INTERNAL_ERROR, &d);
	assert_contains(d.detail, rfile);
	assert_int_equal(unlink(rfile), 0);
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
	free(rfile);
	/* an untrusted password file */
	rfile = lt_fmt("%s/secrets/password/alice", f->dir);
	assert_int_equal(chmod(rfile, 0640), 0);
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d),
		      ACCORD_R_INTERNAL_ERROR, &d);
	free(rfile);
}

static void test_chauthtok(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_decision d;

	assert_reason(accord_decide_chauthtok(&c, "wrong", "new-password-1", &d),
		      ACCORD_R_BAD_SECRET, &d);
	assert_int_equal(d.failures, 1);
	assert_reason(accord_decide_chauthtok(&c, "alice-secret-1", "short", &d),
		      ACCORD_R_PASSWORD_REJECTED, &d);
	assert_reason(accord_decide_chauthtok(&c, "alice-secret-1", "alice-secret-1", &d),
		      ACCORD_R_PASSWORD_REJECTED, &d);
	assert_contains(d.detail, "old one");
	assert_reason(accord_decide_chauthtok(&c, "alice-secret-1", NULL, &d),
		      ACCORD_R_PASSWORD_REJECTED, &d);
	/* characters, not bytes: 7 two-byte characters are too short */
	assert_reason(accord_decide_chauthtok(&c, "alice-secret-1",
					      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
					      &d),
		      ACCORD_R_PASSWORD_REJECTED, &d);
	f->cfg.password_min_length = 5;
	assert_reason(accord_decide_chauthtok(&c, "alice-secret-1", "alice", &d),
		      ACCORD_R_PASSWORD_REJECTED, &d);
	assert_contains(d.detail, "user name");
	assert_reason(accord_decide_chauthtok(&c, "alice-secret-1", "new-password-1", &d),
		      ACCORD_R_OK, &d);
	assert_not_contains(d.detail, "new-password-1");
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d), ACCORD_R_BAD_SECRET, &d);
	assert_reason(accord_decide_password(&c, "new-password-1", &d), ACCORD_R_OK, &d);
	/* root changes it without the old one */
	assert_reason(accord_decide_chauthtok(&c, NULL, "root-chose-this", &d), ACCORD_R_OK, &d);
	assert_reason(accord_decide_password(&c, "root-chose-this", &d), ACCORD_R_OK, &d);
	/* and a profile with no password stored yet gets one */
	c.user = "henry";
	assert_reason(accord_decide_chauthtok(&c, NULL, "henry-first", &d), ACCORD_R_OK, &d);
	assert_reason(accord_decide_password(&c, "henry-first", &d), ACCORD_R_OK, &d);

	c.user = "zed";
	assert_reason(accord_decide_chauthtok(&c, NULL, "whatever-1", &d),
		      ACCORD_R_UNKNOWN_USER, &d);
	c.user = "bob";
	assert_reason(accord_decide_chauthtok(&c, NULL, "whatever-1", &d), ACCORD_R_DISABLED, &d);
	c.user = "gina";
	assert_reason(accord_decide_chauthtok(&c, NULL, "whatever-1", &d),
		      ACCORD_R_NO_PASSWORD, &d);
	c.user = "frank";
	assert_reason(accord_decide_chauthtok(&c, NULL, "whatever-1", &d), ACCORD_R_PROTECTED,
		      &d);
}

static void appl(struct fx *f, const char *name, uint32_t uacc)
{
	struct accord_err err = { 0 };

	must(accord_appl_add(f->st, name, uacc, &err), &err, "appl add");
}

static void permit(struct fx *f, const char *a, uint32_t kind, const char *who,
		   uint32_t access)
{
	struct accord_err err = { 0 };

	must(accord_appl_permit(f->st, a, kind, who, access, &err), &err, "appl permit");
}

static void expect_appl(struct fx *f, const char *user, const char *a,
			enum accord_reason want, const char *granting)
{
	struct accord_logon_ctx c = ctx_for(f, user);
	struct accord_decision d;

	c.appl = a;
	print_message("%s -> %s\n", user, a);
	assert_reason(accord_check_appl(&c, &d), want, &d);
	assert_string_equal(d.granting, granting);
	/* the account phase decides the same */
	assert_reason(accord_decide_account(&c, &d), want, &d);
	assert_string_equal(d.granting, granting);
}

static void test_appl(void **state)
{
	struct fx *f = *state;

	appl(f, "sshd", ACCORD_ACCESS_NONE);
	permit(f, "sshd", ACCORD_ACE_GROUP, "ops", ACCORD_ACCESS_READ);
	appl(f, "ftp", ACCORD_ACCESS_READ);
	/* highest wins: the user's NONE does not take the group's READ away */
	appl(f, "web", ACCORD_ACCESS_NONE);
	permit(f, "web", ACCORD_ACE_USER, "alice", ACCORD_ACCESS_NONE);
	permit(f, "web", ACCORD_ACE_GROUP, "ops", ACCORD_ACCESS_READ);
	appl(f, "db", ACCORD_ACCESS_NONE);
	permit(f, "db", ACCORD_ACE_USER, "alice", ACCORD_ACCESS_READ);
	permit(f, "db", ACCORD_ACE_GROUP, "ops", ACCORD_ACCESS_NONE);
	/* the primary group counts */
	appl(f, "vpn", ACCORD_ACCESS_NONE);
	permit(f, "vpn", ACCORD_ACE_GROUP, "henry", ACCORD_ACCESS_READ);
	/* a matching entry replaces uacc, even when lower */
	appl(f, "tel", ACCORD_ACCESS_READ);
	permit(f, "tel", ACCORD_ACE_GROUP, "ops", ACCORD_ACCESS_NONE);
	/* several groups: the one that grants is named */
	appl(f, "git", ACCORD_ACCESS_NONE);
	permit(f, "git", ACCORD_ACE_GROUP, "ops", ACCORD_ACCESS_NONE);
	permit(f, "git", ACCORD_ACE_GROUP, "wheel", ACCORD_ACCESS_READ);
	rebuild(f);

	expect_appl(f, "alice", "sshd", ACCORD_R_OK, "group:ops");
	expect_appl(f, "henry", "sshd", ACCORD_R_APPL_DENIED, "uacc");
	expect_appl(f, "henry", "ftp", ACCORD_R_OK, "uacc");
	expect_appl(f, "alice", "web", ACCORD_R_OK, "group:ops");
	expect_appl(f, "henry", "web", ACCORD_R_APPL_DENIED, "uacc");
	expect_appl(f, "alice", "db", ACCORD_R_OK, "user:alice");
	expect_appl(f, "henry", "vpn", ACCORD_R_OK, "group:henry");
	expect_appl(f, "alice", "vpn", ACCORD_R_APPL_DENIED, "uacc");
	expect_appl(f, "alice", "tel", ACCORD_R_APPL_DENIED, "group:ops");
	expect_appl(f, "henry", "tel", ACCORD_R_OK, "uacc");
	expect_appl(f, "alice", "git", ACCORD_R_OK, "group:wheel");
	expect_appl(f, "ivan", "git", ACCORD_R_OK, "group:wheel");
	/* undefined: allowed, unless protect_all */
	expect_appl(f, "alice", "login", ACCORD_R_OK, "undefined");
	f->cfg.protect_all = true;
	expect_appl(f, "alice", "login", ACCORD_R_APPL_DENIED, "undefined");
	expect_appl(f, "alice", "sshd", ACCORD_R_OK, "group:ops");
	/* status comes first */
	{
		struct accord_logon_ctx c = ctx_for(f, "bob");
		struct accord_decision d;

		c.appl = "ftp";
		assert_reason(accord_decide_account(&c, &d), ACCORD_R_DISABLED, &d);
		c.user = "zed";
		assert_reason(accord_check_appl(&c, &d), ACCORD_R_UNKNOWN_USER, &d);
	}
}

static void swap_rule(struct fx *f, uint32_t kind, const char *from, const char *to)
{
	struct accord_err err = { 0 };

	must(accord_swap_set(f->st, kind, from, to, &err), &err, "swap set");
}

static void expect_swap(struct fx *f, const char *requester, const char *target,
			enum accord_reason want, const char *granting)
{
	struct accord_logon_ctx c = ctx_for(f, target);
	struct accord_decision d;

	c.requester = requester;
	c.swap = true;
	print_message("%s -> %s\n", requester ? requester : "(null)", target);
	assert_reason(accord_check_swap(&c, &d), want, &d);
	assert_string_equal(d.granting, granting);
}

static void test_swap(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c;
	struct accord_decision d;

	swap_rule(f, ACCORD_SWAP_PERMIT, "wheel", "svc");
	swap_rule(f, ACCORD_SWAP_DENY, "interns", "svc");
	swap_rule(f, ACCORD_SWAP_PERMIT, "wheel", "root");
	swap_rule(f, ACCORD_SWAP_PERMIT, "root", "svc");
	swap_rule(f, ACCORD_SWAP_PERMIT, "ops", "erin2");
	rebuild(f);

	expect_swap(f, "alice", "svc", ACCORD_R_OK, "permit:wheel");
	/* ivan is in wheel (permit) and interns (deny): deny wins */
	expect_swap(f, "ivan", "svc", ACCORD_R_SWAP_DENIED, "deny:interns");
	expect_swap(f, "henry", "svc", ACCORD_R_SWAP_DENIED, "deny:interns");
	expect_swap(f, "henry", "erin2", ACCORD_R_SWAP_DENIED, "no rule");
	expect_swap(f, "alice", "erin2", ACCORD_R_OK, "permit:ops");
	expect_swap(f, "ivan", "erin2", ACCORD_R_SWAP_DENIED, "no rule");
	/* no swap */
	expect_swap(f, "henry", "henry", ACCORD_R_OK, "self");
	/* unknown requester */
	expect_swap(f, NULL, "svc", ACCORD_R_SWAP_DENIED, "");
	expect_swap(f, "no-such-user-here", "svc", ACCORD_R_SWAP_DENIED, "");
	/* a target that is a local account, not an accord profile */
	expect_swap(f, "alice", "root", ACCORD_R_OK, "permit:wheel");
	expect_swap(f, "henry", "root", ACCORD_R_SWAP_DENIED, "no rule");
	/* swap_never beats any permit */
	snprintf(f->cfg.swap_never, sizeof(f->cfg.swap_never), "break,root");
	expect_swap(f, "alice", "root", ACCORD_R_SWAP_DENIED, "swap_never");
	expect_swap(f, "alice", "svc", ACCORD_R_OK, "permit:wheel");
	snprintf(f->cfg.swap_never, sizeof(f->cfg.swap_never), "svc");
	expect_swap(f, "alice", "svc", ACCORD_R_SWAP_DENIED, "swap_never");
	expect_swap(f, "svc", "svc", ACCORD_R_OK, "self");
	f->cfg.swap_never[0] = '\0';
	/* a requester that is no accord profile: its groups come from the
	 * system (root is in group root, gid 0, in /etc/group) */
	expect_swap(f, "root", "svc", ACCORD_R_OK, "permit:root");
	expect_swap(f, "root", "erin2", ACCORD_R_SWAP_DENIED, "no rule");

	/* the account phase of a swap stack: status, appl, then swap */
	c = ctx_for(f, "svc");
	c.swap = true;
	c.requester = "alice";
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
	assert_string_equal(d.granting, "permit:wheel");
	c.requester = "ivan";
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_SWAP_DENIED, &d);
	assert_string_equal(d.granting, "deny:interns");
	c.swap = false;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
	c = ctx_for(f, "erin");
	c.swap = true;
	c.requester = "alice";
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_EXPIRED, &d);
}

static void expect_account_swap(struct fx *f, const char *requester, const char *target,
				enum accord_reason want, const char *granting)
{
	struct accord_logon_ctx c = ctx_for(f, target);
	struct accord_decision d;

	c.requester = requester;
	c.swap = true;
	print_message("account: %s -> %s\n", requester, target);
	assert_reason(accord_decide_account(&c, &d), want, &d);
	assert_string_equal(d.granting, granting);
	assert_false(d.known);
	assert_int_equal(d.failures, -1);
	assert_true(d.detail[0] != '\0');
}

/*
 * The account phase of a swap to a local account (root): no accord
 * profile, but the swap rules that name it apply.  Refused ->
 * swap_denied; let through -> unknown_user (PAM_USER_UNKNOWN: the stack
 * goes on to pam_unix) with the rule that let it through.
 */
/* A protected profile logs on by no method, but a permitted swap may run
 * work as it (RACF: protected IDs for surrogate work). */
static void test_swap_protected(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c;
	struct accord_decision d;

	swap_rule(f, ACCORD_SWAP_PERMIT, "wheel", "frank");
	rebuild(f);
	c = ctx_for(f, "frank");
	c.swap = true;
	c.requester = "alice"; /* in wheel */
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_OK, &d);
	assert_string_equal(d.granting, "permit:wheel");
	c.requester = "bob";   /* no rule for him */
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_SWAP_DENIED, &d);
	c.requester = "frank"; /* itself: that is a logon, not a swap */
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_PROTECTED, &d);
	c.swap = false;        /* not a swap stack */
	c.requester = "alice";
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_PROTECTED, &d);
}

static void test_swap_local_target(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c;
	struct accord_decision d;

	swap_rule(f, ACCORD_SWAP_PERMIT, "wheel", "root");
	swap_rule(f, ACCORD_SWAP_DENY, "interns", "root");
	rebuild(f);

	/* a permit rule: unknown_user, granting named */
	expect_account_swap(f, "alice", "root", ACCORD_R_UNKNOWN_USER, "permit:wheel");
	/* deny wins over permit (ivan is in wheel and interns) */
	expect_account_swap(f, "ivan", "root", ACCORD_R_SWAP_DENIED, "deny:interns");
	expect_account_swap(f, "henry", "root", ACCORD_R_SWAP_DENIED, "deny:interns");
	/* no rule */
	expect_account_swap(f, "bob", "root", ACCORD_R_SWAP_DENIED, "no rule");
	/* a local account that no rule names is not accord's business
	 * (root's "su postgres" in a cron job): unknown_user, no rule */
	expect_account_swap(f, "bob", "nobody-local", ACCORD_R_UNKNOWN_USER, "");
	/* a system requester: its groups from the system (root is in root) */
	expect_account_swap(f, "root", "root", ACCORD_R_UNKNOWN_USER, "self");
	/* an unknown requester */
	expect_account_swap(f, "no-such-user-here", "root", ACCORD_R_SWAP_DENIED, "");
	/* swap_never beats the permit */
	snprintf(f->cfg.swap_never, sizeof(f->cfg.swap_never), "root");
	expect_account_swap(f, "alice", "root", ACCORD_R_SWAP_DENIED, "swap_never");
	f->cfg.swap_never[0] = '\0';
	/* not a swap stack: unknown_user as before, no rule looked at */
	c = ctx_for(f, "root");
	c.requester = "henry";
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_UNKNOWN_USER, &d);
	assert_string_equal(d.granting, "");
	/* no user name: unknown_user, no swap rule */
	c = ctx_for(f, "");
	c.swap = true;
	c.requester = "henry";
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_UNKNOWN_USER, &d);
	/* the snapshot or config missing: internal_error still */
	c = ctx_for(f, "root");
	c.swap = true;
	c.requester = "alice";
	c.cfg = NULL;
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_INTERNAL_ERROR, &d);
}

/*
 * A revoke that arrives while the user types (another host counted the
 * fifth bad password, an inactivity revoke) is honoured by the password
 * phase: the record is read under its lock, the right password is not
 * even checked.  So is the snapshot's status.
 */
static void test_revoke_after_prompt(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_profile_ref a = ref(f, "alice");
	struct accord_logon_rec rec, after;
	struct accord_err err = { 0 };
	struct accord_decision d;

	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d), ACCORD_R_OK, &d);
	/* meanwhile, elsewhere */
	assert_int_equal(accord_logon_failure(f->s, &a, 1, NOW, &after, &err), 0);
	assert_int_equal(after.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d),
		      ACCORD_R_REVOKED_FAILURES, &d);
	assert_int_equal(d.failures, -1);
	assert_not_contains(d.detail, "alice-secret-1");
	/* nothing counted */
	assert_int_equal(accord_logon_read(f->s, &a, &rec, &err), 0);
	assert_int_equal(rec.failures, 1);
	assert_int_equal(rec.last_success, 0);
	assert_reason(accord_decide_chauthtok(&c, "alice-secret-1", "new-password-9", &d),
		      ACCORD_R_REVOKED_FAILURES, &d);

	assert_int_equal(accord_logon_reset(f->s, &a, NOW, &err), 0);
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d), ACCORD_R_OK, &d);
	assert_int_equal(accord_logon_revoke(f->s, &a, ACCORD_LOGON_REVOKED_INACTIVE, NOW, &err),
			 0);
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d),
		      ACCORD_R_REVOKED_INACTIVE, &d);
	assert_int_equal(accord_logon_reset(f->s, &a, NOW, &err), 0);
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d), ACCORD_R_OK, &d);

	/* the snapshot's status, even without auth_pre before */
	set_pw(f, "carol", "carol-secret-1");
	c.user = "carol";
	assert_reason(accord_decide_password(&c, "carol-secret-1", &d), ACCORD_R_REVOKED, &d);
	set_pw(f, "bob", "bob-secret-1");
	c.user = "bob";
	assert_reason(accord_decide_password(&c, "bob-secret-1", &d), ACCORD_R_DISABLED, &d);
	set_pw(f, "erin", "erin-secret-1");
	c.user = "erin";
	assert_reason(accord_decide_password(&c, "erin-secret-1", &d), ACCORD_R_EXPIRED, &d);
	/* a protected profile's record revoked (before it was protected) */
	{
		struct accord_profile_ref fr = ref(f, "frank");

		assert_int_equal(accord_logon_revoke(f->s, &fr, ACCORD_LOGON_REVOKED_INACTIVE, NOW,
						     &err), 0);
		c.user = "frank";
		c.batch = true;
		assert_reason(accord_decide_password(&c, "frank-secret-1", &d),
			      ACCORD_R_REVOKED_INACTIVE, &d);
		assert_int_equal(accord_logon_reset(f->s, &fr, NOW, &err), 0);
		assert_reason(accord_decide_password(&c, "frank-secret-1", &d), ACCORD_R_OK, &d);
	}
}

/* User-chosen names reach d->detail escaped and capped. */
static void test_detail_sanitized(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c;
	struct accord_decision d;
	char longname[300];
	size_t i;

	c = ctx_for(f, "evil\nname\x1b[31m\xe2\x80\xae'\"\\");
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_UNKNOWN_USER, &d);
	assert_contains(d.detail, "evil\\x0aname\\x1b[31m\\xe2\\x80\\xae\\x27\\x22\\x5c");
	for (i = 0; d.detail[i]; i++)
		if ((unsigned char)d.detail[i] < 0x20 || (unsigned char)d.detail[i] >= 0x7f)
			fail_msg("raw byte 0x%02x in detail %s", (unsigned char)d.detail[i],
				 d.detail);
	/* swap: requester and target */
	c = ctx_for(f, "svc");
	c.swap = true;
	c.requester = "x\ry";
	assert_reason(accord_check_swap(&c, &d), ACCORD_R_SWAP_DENIED, &d);
	assert_contains(d.detail, "x\\x0dy");
	/* application names */
	f->cfg.protect_all = true;
	c = ctx_for(f, "alice");
	c.appl = "app\x85x";
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_APPL_DENIED, &d);
	assert_contains(d.detail, "app\\x85x");
	/* long: capped, never a half escape at the end */
	memset(longname, '\x01', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	c = ctx_for(f, longname);
	assert_reason(accord_decide_account(&c, &d), ACCORD_R_UNKNOWN_USER, &d);
	assert_true(strlen(d.detail) < sizeof(d.detail));
	{
		size_t n = strlen(d.detail);
		const char *bs = strrchr(d.detail, '\\');

		assert_true(bs != NULL);
		assert_true((size_t)(bs - d.detail) + 4 <= n);
	}
}

/* The logon record lock waits at most lock_timeout, then internal_error. */
static void test_lock_timeout(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_profile_ref a = ref(f, "alice");
	struct accord_logon_rec rec;
	struct accord_err err = { 0 };
	struct accord_decision d;
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct timespec t0, t1;
	char *rfile = lt_fmt("%s/secrets/logon/alice", f->dir);
	double ms;
	int fd;

	assert_int_equal(accord_logon_failure(f->s, &a, 0, NOW, &rec, &err), 0);
	fd = open(rfile, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &lk), 0);
	f->cfg.lock_timeout = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d), ACCORD_R_INTERNAL_ERROR,
		      &d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_contains(d.detail, "timed out");
	assert_true(ms >= 900 && ms < 5000);
	assert_reason(accord_decide_password(&c, "wrong", &d), ACCORD_R_INTERNAL_ERROR, &d);
	close(fd);
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d), ACCORD_R_OK, &d);
	free(rfile);
}

/* Drops CAP_SYS_RESOURCE: root then cannot lift a lowered hard limit. */
static int drop_sys_resource(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cd[2];

	if (syscall(SYS_capget, &h, cd) < 0)
		return -1;
	cd[0].effective &= ~(1u << CAP_SYS_RESOURCE);
	cd[0].permitted &= ~(1u << CAP_SYS_RESOURCE);
	cd[0].inheritable &= ~(1u << CAP_SYS_RESOURCE);
	return (int)syscall(SYS_capset, &h, cd);
}

/* A child with `ulimit -f LIMIT` (soft and hard, the limit not liftable)
 * and SIGXFSZ ignored runs the password phase.  Exit 0 when every answer
 * was counted or denied. */
static int fsize_decisions(struct fx *f, rlim_t limit)
{
	struct rlimit rl = { limit, limit };
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_profile_ref a = ref(f, "alice");
	struct accord_logon_rec before, rec;
	struct accord_err err = { 0 };
	struct accord_decision d;
	enum accord_reason r;
	int i;

	signal(SIGXFSZ, SIG_IGN);
	if (accord_logon_read(f->s, &a, &before, &err) < 0)
		return 40;
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 41;
	if (geteuid() == 0 && drop_sys_resource() < 0)
		return 48;
	for (i = 0; i < 3; i++) {
		r = accord_decide_password(&c, "wrong", &d);
		if (accord_logon_read(f->s, &a, &rec, &err) < 0)
			return 42;
		if (r == ACCORD_R_BAD_SECRET) {
			/* counted, on disk */
			if (d.failures != (int64_t)rec.failures || rec.failures != before.failures + 1)
				return 43;
		} else if (r == ACCORD_R_INTERNAL_ERROR) {
			/* denied, not counted, not verified */
			if (!strstr(d.detail, "not checked") || rec.failures != before.failures)
				return 44;
		} else {
			fprintf(stderr, "wrong password: %s (%s)\n", accord_reason_name(r), d.detail);
			return 45;
		}
		before = rec;
	}
	r = accord_decide_password(&c, "alice-secret-1", &d);
	if (r == ACCORD_R_OK) {
		/* only after the attempt was counted: the count went to a
		 * slot below the limit */
		if (limit < 64) {
			fprintf(stderr, "accepted uncounted: %s\n", d.detail);
			return 46;
		}
	} else if (r != ACCORD_R_INTERNAL_ERROR) {
		return 47;
	}
	return 0;
}

static void run_fsize_decisions(struct fx *f, rlim_t limit)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fsize_decisions(f, limit));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status))
		fail_msg("child check %d failed (limit %llu)", WEXITSTATUS(status),
			 (unsigned long long)limit);
}

/*
 * `ulimit -f 0` before su: a wrong password is counted (root lifts the
 * limit for its own writes) or denied as internal_error without being
 * checked, never an uncounted verify; a right password is not accepted
 * while its attempt cannot be counted; the record is never damaged.
 */
static void test_fsize(void **state)
{
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_profile_ref a = ref(f, "alice");
	struct accord_logon_rec rec;
	struct accord_err err = { 0 };
	struct accord_decision d;
	static const rlim_t limits[] = { 0, 10, 64, 100 };
	size_t i;

	f->cfg.revoke_after = 0;
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		/* hard and soft: root without CAP_SYS_RESOURCE cannot lift it */
		run_fsize_decisions(f, limits[i]);
		assert_int_equal(accord_logon_read(f->s, &a, &rec, &err), 0);
		/* soft only (`ulimit -S -f 0`): root lifts it, all counted */
		if (geteuid() == 0) {
			uint32_t n0 = rec.failures;
			pid_t pid = fork();
			int status;

			assert_true(pid >= 0);
			if (pid == 0) {
				struct rlimit rl = { limits[i], RLIM_INFINITY };
				struct accord_decision dd;
				int k;

				signal(SIGXFSZ, SIG_IGN);
				if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
					_exit(50);
				for (k = 0; k < 3; k++)
					if (accord_decide_password(&c, "wrong", &dd) !=
					    ACCORD_R_BAD_SECRET)
						_exit(51);
				if (dd.failures != (int64_t)n0 + 3)
					_exit(52);
				if (accord_decide_password(&c, "alice-secret-1", &dd) != ACCORD_R_OK ||
				    dd.failures != 0)
					_exit(53);
				_exit(0);
			}
			assert_int_equal(waitpid(pid, &status, 0), pid);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		}
	}
	/* never damaged; the right password works */
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d), ACCORD_R_OK, &d);
	assert_reason(accord_decide_password(&c, "alice-secret-1", &d), ACCORD_R_OK, &d);
	assert_int_equal(d.failures, 0);
}

/* ---- the generic count-before-check and PassTickets ---------------------- */

struct chk {
	struct fx *f;
	const char *name;
	int answer;
	int calls;
	uint32_t seen_failures;   /* the count the check saw on disk */
};

static int chk_fn(void *arg, struct accord_err *err)
{
	struct chk *c = arg;
	struct accord_profile_ref p = ref(c->f, c->name);
	struct accord_logon_rec rec;
	struct accord_err e = { 0 };

	c->calls++;
	/* the attempt is on disk before the check runs (a reader takes no
	 * lock, so this works under the writer's lock) */
	assert_int_equal(accord_logon_read(c->f->s, &p, &rec, &e), 0);
	c->seen_failures = rec.failures;
	if (c->answer == -EIO)
		return accord_err_set(err, -EIO, "check broke");
	return c->answer;
}

static void test_logon_check(void **state)
{
	struct fx *f = *state;
	struct accord_profile_ref a = ref(f, "alice");
	struct chk c = { .f = f, .name = "alice" };
	struct accord_logon_rec after;
	struct accord_err err = { 0 };
	int i;

	c.answer = -EACCES;
	for (i = 1; i <= 2; i++) {
		assert_int_equal(accord_logon_check(f->s, &a, chk_fn, &c, 3, NOW, &after, &err),
				 -EACCES);
		assert_int_equal(c.seen_failures, (uint32_t)i);
		assert_int_equal(after.failures, (uint32_t)i);
	}
	c.answer = 0;
	assert_int_equal(accord_logon_check(f->s, &a, chk_fn, &c, 3, NOW, &after, &err), 0);
	assert_int_equal(c.seen_failures, 3);   /* counted, then reset */
	assert_int_equal(after.failures, 0);
	assert_int_equal(after.last_success, NOW);
	/* an error of the check: counted, not a verdict, nothing revoked */
	c.answer = -EIO;
	assert_int_equal(accord_logon_check(f->s, &a, chk_fn, &c, 1, NOW, &after, &err), -EIO);
	assert_int_equal(after.failures, 1);
	assert_int_equal(after.revoked, 0);
	/* -ENOENT from a check is no verdict either */
	c.answer = -ENOENT;
	assert_int_equal(accord_logon_check(f->s, &a, chk_fn, &c, 0, NOW, &after, &err), -EIO);
	/* revoke_after reached */
	c.answer = -EACCES;
	assert_int_equal(accord_logon_check(f->s, &a, chk_fn, &c, 3, NOW, &after, &err),
			 -EACCES);
	assert_int_equal(after.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_int_equal(after.revoked_at, NOW);
	/* revoked: the check is never called */
	c.calls = 0;
	c.answer = 0;
	assert_int_equal(accord_logon_check(f->s, &a, chk_fn, &c, 3, NOW, &after, &err),
			 -EKEYREVOKED);
	assert_int_equal(c.calls, 0);
	assert_int_equal(after.failures, 3);
	/* no check */
	assert_int_equal(accord_logon_check(f->s, &a, NULL, NULL, 3, NOW, &after, &err),
			 -EINVAL);
}

/* auth_pre and the method bits: no-password profiles may use tickets,
 * protected ones may not, names must be RACF IDs. */
static void test_methods(void **state)
{
	const unsigned both = ACCORD_METHOD_PASSWORD | ACCORD_METHOD_PASSTICKET;
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "gina");
	struct accord_decision d;

	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSWORD, &d),
		      ACCORD_R_NO_PASSWORD, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSWORD);
	assert_reason(accord_decide_auth_pre(&c, both, &d), ACCORD_R_OK, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSTICKET);
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSTICKET, &d), ACCORD_R_OK, &d);
	/* a stack with no known method */
	assert_reason(accord_decide_auth_pre(&c, 0, &d), ACCORD_R_METHOD_REFUSED, &d);
	/* the application must be a RACF name for tickets */
	c.appl = "web-app";
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSTICKET, &d),
		      ACCORD_R_METHOD_REFUSED, &d);
	assert_contains(d.detail, "web-app");
	assert_reason(accord_decide_auth_pre(&c, both, &d), ACCORD_R_NO_PASSWORD, &d);
	c.appl = "sshd";
	/* protected: refused before the prompt, even in batch, for tickets */
	c.user = "frank";
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSTICKET, &d),
		      ACCORD_R_PROTECTED, &d);
	c.batch = true;
	assert_reason(accord_decide_auth_pre(&c, ACCORD_METHOD_PASSTICKET, &d),
		      ACCORD_R_PROTECTED, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSTICKET);
	assert_reason(accord_decide_auth_pre(&c, both, &d), ACCORD_R_OK, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSWORD);
	/* decide_secret on that stack: the password only */
	assert_reason(accord_decide_secret(&c, both, "frank-secret-1", &d), ACCORD_R_OK, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSWORD);
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSTICKET, "ABCDEFGH", &d),
		      ACCORD_R_PROTECTED, &d);
}

#define PT_KEY_HEX "0123456789ABCDEF"

static void put_key(struct fx *f, const char *profile, bool replay)
{
	struct accord_pt_key k;
	struct accord_err err = { 0 };

	memset(&k, 0, sizeof(k));
	k.alg = ACCORD_PT_LEGACY;
	k.window = ACCORD_PT_WINDOW;
	k.replay_protection = replay;
	must(accord_pt_key_from_hex(PT_KEY_HEX, ACCORD_PT_LEGACY, false, &k, &err), &err,
	     "key");
	must(accord_pt_key_put(f->s, profile, &k, &err), &err, "key put");
	accord_pt_key_wipe(&k);
}

static void ticket(const char *user, const char *appl, int64_t t, char out[9])
{
	struct accord_pt_key k;
	struct accord_err err = { 0 };

	memset(&k, 0, sizeof(k));
	k.alg = ACCORD_PT_LEGACY;
	k.window = ACCORD_PT_WINDOW;
	must(accord_pt_key_from_hex(PT_KEY_HEX, ACCORD_PT_LEGACY, false, &k, &err), &err,
	     "key");
	must(accord_pt_generate(&k, user, appl, (uint64_t)t, out, &err), &err, "generate");
	accord_pt_key_wipe(&k);
}

static void test_passticket(void **state)
{
	const unsigned both = ACCORD_METHOD_PASSWORD | ACCORD_METHOD_PASSTICKET;
	struct fx *f = *state;
	struct accord_logon_ctx c = ctx_for(f, "alice");
	struct accord_decision d;
	char tk[9];

	/* no key: not counted on a ticket-only stack; a password otherwise */
	ticket("ALICE", "SSHD", NOW, tk);
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSTICKET, tk, &d),
		      ACCORD_R_NO_KEY, &d);
	assert_int_equal(d.failures, -1);
	assert_reason(accord_decide_secret(&c, both, tk, &d), ACCORD_R_BAD_SECRET, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSWORD);
	assert_int_equal(d.failures, 1);

	put_key(f, "SSHD", true);
	assert_reason(accord_decide_secret(&c, both, tk, &d), ACCORD_R_OK, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSTICKET);
	assert_int_equal(d.failures, 0);
	assert_not_contains(d.detail, tk);
	assert_reason(accord_decide_secret(&c, both, tk, &d), ACCORD_R_REPLAY, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSTICKET);
	assert_int_equal(d.failures, 1);
	/* expired, at both ends of the window */
	ticket("ALICE", "SSHD", NOW - 601, tk);
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSTICKET, tk, &d),
		      ACCORD_R_TICKET_EXPIRED, &d);
	ticket("ALICE", "SSHD", NOW + 601, tk);
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSTICKET, tk, &d),
		      ACCORD_R_TICKET_EXPIRED, &d);
	assert_int_equal(d.failures, 3);
	/* the password on a combined stack (not a ticket: 14 characters) */
	assert_reason(accord_decide_secret(&c, both, "alice-secret-1", &d), ACCORD_R_OK, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSWORD);
	assert_int_equal(d.failures, 0);
	/* the ticket of another user is no ticket of alice */
	ticket("HENRY", "SSHD", NOW, tk);
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSTICKET, tk, &d),
		      ACCORD_R_BAD_SECRET, &d);
	/* a qualified key of another value first, then the APPL key */
	{
		struct accord_pt_key k;
		struct accord_err err = { 0 };

		memset(&k, 0, sizeof(k));
		k.alg = ACCORD_PT_LEGACY;
		k.window = ACCORD_PT_WINDOW;
		k.replay_protection = true;
		must(accord_pt_key_from_hex("FEDCBA9876543210", ACCORD_PT_LEGACY, false, &k,
					    &err), &err, "key");
		must(accord_pt_key_put(f->s, "SSHD.ALICE", &k, &err), &err, "key put");
		must(accord_pt_generate(&k, "ALICE", "SSHD", NOW - 2, tk, &err), &err, "gen");
		accord_pt_key_wipe(&k);
	}
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSTICKET, tk, &d), ACCORD_R_OK,
		      &d);
	assert_contains(d.detail, "SSHD.ALICE");
	ticket("ALICE", "SSHD", NOW - 3, tk);
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSTICKET, tk, &d), ACCORD_R_OK,
		      &d);
	/* a no-password profile: tickets only */
	c.user = "gina";
	ticket("GINA", "SSHD", NOW, tk);
	assert_reason(accord_decide_secret(&c, both, tk, &d), ACCORD_R_OK, &d);
	/* methods == PASSWORD: exactly accord_decide_password */
	c.user = "alice";
	ticket("ALICE", "SSHD", NOW - 4, tk);
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSWORD, tk, &d),
		      ACCORD_R_BAD_SECRET, &d);
	assert_int_equal(d.method, ACCORD_METHOD_PASSWORD);
	/* unknown and disabled users: their reasons, nothing counted */
	c.user = "zed";
	assert_reason(accord_decide_secret(&c, both, tk, &d), ACCORD_R_UNKNOWN_USER, &d);
	c.user = "bob";
	assert_reason(accord_decide_secret(&c, both, tk, &d), ACCORD_R_DISABLED, &d);
	/* no secrets store: fail closed */
	c.user = "alice";
	c.secrets = NULL;
	assert_reason(accord_decide_secret(&c, ACCORD_METHOD_PASSTICKET, tk, &d),
		      ACCORD_R_INTERNAL_ERROR, &d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inactive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chauthtok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_local_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_after_prompt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detail_sanitized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logon_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passticket, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
