/* SPDX-License-Identifier: MIT */
/*
 * Logon decisions: see include/accord/policy.h.
 *
 * Every decision fails closed: what cannot be read (a damaged snapshot
 * record, a missing or damaged secrets store) is internal_error, never a
 * pass.  Every public function fills the whole struct accord_decision, so
 * the PAM adapter can audit whatever it gets back.
 */
#include <accord/policy.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY 86400
#define SWAP_GROUPS_MAX 65536

static const char *const reason_names[ACCORD_R_COUNT] = {
	[ACCORD_R_OK] = "ok",
	[ACCORD_R_BAD_SECRET] = "bad_secret",
	[ACCORD_R_UNKNOWN_USER] = "unknown_user",
	[ACCORD_R_DISABLED] = "disabled",
	[ACCORD_R_REVOKED] = "revoked",
	[ACCORD_R_REVOKED_FAILURES] = "revoked_failures",
	[ACCORD_R_REVOKED_INACTIVE] = "revoked_inactive",
	[ACCORD_R_EXPIRED] = "expired",
	[ACCORD_R_PROTECTED] = "protected",
	[ACCORD_R_NO_PASSWORD] = "no_password",
	[ACCORD_R_METHOD_REFUSED] = "method_refused",
	[ACCORD_R_APPL_DENIED] = "appl_denied",
	[ACCORD_R_SWAP_DENIED] = "swap_denied",
	[ACCORD_R_PASSWORD_REJECTED] = "password_rejected",
	[ACCORD_R_INTERNAL_ERROR] = "internal_error",
};

const char *accord_reason_name(enum accord_reason r)
{
	if ((unsigned)r >= ACCORD_R_COUNT)
		return "internal_error";
	return reason_names[r];
}

__attribute__((format(printf, 3, 4)))
static enum accord_reason decide(struct accord_decision *d, enum accord_reason r,
				 const char *fmt, ...)
{
	va_list ap;

	d->reason = r;
	va_start(ap, fmt);
	vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
	va_end(ap);
	return r;
}

static void set_granting(struct accord_decision *d, const char *kind, const char *name,
			 size_t name_len)
{
	snprintf(d->granting, sizeof(d->granting), "%s%s%.*s", kind, name_len ? ":" : "",
		 (int)(name_len > 64 ? 64 : name_len), name);
}

static struct accord_profile_ref ref_of(const struct accord_decision *d)
{
	return (struct accord_profile_ref){
		.name = d->user.name, .uid = d->user.uid, .created = d->user.created,
	};
}

/* Fills d->user from the snapshot.  OK, UNKNOWN_USER or INTERNAL_ERROR. */
static enum accord_reason lookup(const struct accord_logon_ctx *ctx,
				 struct accord_decision *d)
{
	int r;

	memset(d, 0, sizeof(*d));
	d->failures = -1;
	if (!ctx->cfg || !ctx->snap)
		return decide(d, ACCORD_R_INTERNAL_ERROR, "no configuration or snapshot");
	if (!ctx->user || !*ctx->user)
		return decide(d, ACCORD_R_UNKNOWN_USER, "no user name");
	r = accord_snap_user_by_name(ctx->snap, ctx->user, &d->user);
	if (r == -ENOENT)
		return decide(d, ACCORD_R_UNKNOWN_USER, "no accord profile named '%.64s'",
			      ctx->user);
	if (r < 0) {
		memset(&d->user, 0, sizeof(d->user));
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the snapshot record of %.64s is damaged (generation %llu)",
			      ctx->user, (unsigned long long)ctx->snap->generation);
	}
	d->known = true;
	d->reason = ACCORD_R_OK;
	return ACCORD_R_OK;
}

/* ---- status ------------------------------------------------------------- */

static enum accord_reason status(const struct accord_logon_ctx *ctx,
				 struct accord_decision *d)
{
	const struct accord_snap_user *u = &d->user;
	struct accord_profile_ref ref = ref_of(d);
	struct accord_logon_rec rec;
	struct accord_err err = { 0 };
	bool protected = u->flags & ACCORD_F_PROTECTED;
	int64_t now = ctx->now, last;

	switch (accord_user_status(u->flags)) {
	case ACCORD_STATUS_ENABLED:
		break;
	case ACCORD_STATUS_DISABLED:
		return decide(d, ACCORD_R_DISABLED, "%s is disabled", u->name);
	case ACCORD_STATUS_REVOKED:
		/* a resume date that has come lifts an administrator's revoke */
		if (!(u->resume_date && now >= u->resume_date))
			return decide(d, ACCORD_R_REVOKED, "%s is revoked%s%.96s", u->name,
				      u->reason_len ? ": " : "",
				      u->reason_len && u->reason ? u->reason : "");
		break;
	default:
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s has an unknown status %u",
			      u->name, accord_user_status(u->flags));
	}
	if (u->revoke_date && now >= u->revoke_date &&
	    !(u->resume_date > u->revoke_date && now >= u->resume_date))
		return decide(d, ACCORD_R_EXPIRED, "%s reached its revoke date (@%lld)",
			      u->name, (long long)u->revoke_date);

	if (!ctx->secrets)
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the secrets store could not be opened; logon records of %s "
			      "cannot be checked", u->name);
	if (accord_logon_read(ctx->secrets, &ref, &rec, &err) < 0)
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s", err.msg);
	if (rec.revoked == ACCORD_LOGON_REVOKED_FAILURES)
		return decide(d, ACCORD_R_REVOKED_FAILURES,
			      "%s was revoked after %u bad passwords (@%lld)", u->name,
			      rec.failures, (long long)rec.revoked_at);
	if (rec.revoked == ACCORD_LOGON_REVOKED_INACTIVE)
		return decide(d, ACCORD_R_REVOKED_INACTIVE,
			      "%s was revoked for inactivity (@%lld)", u->name,
			      (long long)rec.revoked_at);
	/* RACF INACTIVE: evaluated, and recorded, at the next attempt; a new
	 * profile's last use is its creation */
	last = rec.last_success > u->created ? rec.last_success : u->created;
	if (ctx->cfg->inactive_days > 0 && !protected &&
	    now - last > (int64_t)ctx->cfg->inactive_days * DAY) {
		if (accord_logon_revoke(ctx->secrets, &ref, ACCORD_LOGON_REVOKED_INACTIVE,
					now, &err) < 0)
			return decide(d, ACCORD_R_REVOKED_INACTIVE,
				      "%s unused for more than %u days (the revoke could not "
				      "be recorded: %s)", u->name, ctx->cfg->inactive_days,
				      err.msg);
		return decide(d, ACCORD_R_REVOKED_INACTIVE,
			      "%s unused for more than %u days: revoked", u->name,
			      ctx->cfg->inactive_days);
	}
	if (protected && !ctx->batch)
		return decide(d, ACCORD_R_PROTECTED,
			      "%s is protected: no interactive logon", u->name);
	d->reason = ACCORD_R_OK;
	return ACCORD_R_OK;
}

enum accord_reason accord_check_status(const struct accord_logon_ctx *ctx,
				       struct accord_decision *d)
{
	enum accord_reason r = lookup(ctx, d);

	return r == ACCORD_R_OK ? status(ctx, d) : r;
}

/* ---- APPL --------------------------------------------------------------- */

/*
 * RACF GRPLIST semantics: the highest access of every matching entry wins,
 * the user's own entry included.  A user entry of NONE therefore does not
 * take away what one of the user's groups grants; to keep one member out,
 * take the user out of the group.  (Without GRPLIST RACF would let the
 * user entry decide alone; we follow the semantics spec, §6, "max over the
 * user entry and all of the user's groups".)  Ties go to the first entry
 * in stored order: the user's own entry, then groups by name.
 */
static enum accord_reason appl(const struct accord_logon_ctx *ctx,
			       struct accord_decision *d)
{
	const struct accord_snap_user *u = &d->user;
	struct accord_snap_appl a;
	struct accord_snap_ace e;
	bool matched = false;
	uint32_t best = 0;
	size_t pos = 0;
	int r;

	if (!ctx->appl || !*ctx->appl)
		return decide(d, ACCORD_R_INTERNAL_ERROR, "no application name");
	r = accord_snap_appl_by_name(ctx->snap, ctx->appl, &a);
	if (r == -ENOENT) {
		set_granting(d, "undefined", "", 0);
		if (ctx->cfg->protect_all)
			return decide(d, ACCORD_R_APPL_DENIED,
				      "application %.64s is not defined and protect_all is set",
				      ctx->appl);
		d->reason = ACCORD_R_OK;
		return ACCORD_R_OK;
	}
	if (r < 0)
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the snapshot record of application %.64s is damaged",
			      ctx->appl);
	while ((r = accord_snap_appl_entry(&a, &pos, &e)) == 0) {
		bool hit = false;

		if (e.kind == ACCORD_ACE_USER)
			hit = e.name_len == u->name_len && !memcmp(e.name, u->name, e.name_len);
		else if (e.kind == ACCORD_ACE_GROUP)
			hit = accord_snap_user_in_gid(u, e.id);
		if (!hit || (matched && e.access <= best))
			continue;
		matched = true;
		best = e.access;
		set_granting(d, e.kind == ACCORD_ACE_USER ? "user" : "group", e.name,
			     e.name_len);
	}
	if (r != -ENOENT)
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the access list of application %.64s is damaged", ctx->appl);
	if (!matched) {
		best = a.uacc;
		set_granting(d, "uacc", "", 0);
	}
	if (best >= ACCORD_ACCESS_READ) {
		d->reason = ACCORD_R_OK;
		return ACCORD_R_OK;
	}
	return decide(d, ACCORD_R_APPL_DENIED, "%s has no access to application %.64s (%s)",
		      u->name, ctx->appl, d->granting);
}

enum accord_reason accord_check_appl(const struct accord_logon_ctx *ctx,
				     struct accord_decision *d)
{
	enum accord_reason r = lookup(ctx, d);

	return r == ACCORD_R_OK ? appl(ctx, d) : r;
}

/* ---- swap --------------------------------------------------------------- */

static bool in_name_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && !memcmp(p, name, n))
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

/* The requester's group names: pointers into the snapshot (accord
 * profiles) or copies (system accounts, owned). */
struct group_names {
	const char **names;
	char **owned;
	size_t n, nowned;
};

static void group_names_free(struct group_names *g)
{
	size_t i;

	for (i = 0; i < g->nowned; i++)
		free(g->owned[i]);
	free(g->owned);
	free(g->names);
}

/* 0, -ENOENT (no such requester anywhere), -EBADMSG, -ENOMEM, -errno */
static int requester_groups(const struct accord_logon_ctx *ctx, const char *who,
			    struct group_names *g)
{
	struct accord_snap_user u;
	struct accord_snap_group gr;
	uint32_t i;
	int r;

	memset(g, 0, sizeof(*g));
	r = accord_snap_user_by_name(ctx->snap, who, &u);
	if (r == 0) {
		g->names = calloc((size_t)u.ngroups + 1, sizeof(*g->names));
		if (!g->names)
			return -ENOMEM;
		for (i = 0; i <= u.ngroups; i++) {
			uint32_t gid = i == 0 ? u.gid : accord_snap_user_gid(&u, i - 1);

			r = accord_snap_group_by_gid(ctx->snap, gid, &gr);
			if (r == -ENOENT)
				continue;
			if (r < 0)
				return r;
			g->names[g->n++] = gr.name;
		}
		return 0;
	}
	if (r != -ENOENT)
		return r;
	return 1; /* not an accord profile: ask the system */
}

static int system_groups(const char *who, struct group_names *g)
{
	struct passwd pw, *pwp = NULL;
	struct group grp, *grpp;
	gid_t *gids = NULL;
	char *buf = NULL;
	size_t buflen = 16384;
	int ngroups = 64, i, r;

	buf = malloc(buflen);
	if (!buf)
		return -ENOMEM;
	while ((r = getpwnam_r(who, &pw, buf, buflen, &pwp)) == ERANGE && buflen < (1u << 20)) {
		char *nb = realloc(buf, buflen *= 2);

		if (!nb) {
			r = ENOMEM;
			break;
		}
		buf = nb;
	}
	if (r || !pwp) {
		r = r ? -r : -ENOENT;
		goto out;
	}
	for (;;) {
		int want = ngroups;
		gid_t *ng = realloc(gids, (size_t)want * sizeof(*gids));

		if (!ng) {
			r = -ENOMEM;
			goto out;
		}
		gids = ng;
		if (getgrouplist(who, pw.pw_gid, gids, &ngroups) >= 0)
			break;
		if (ngroups <= want) {
			ngroups = want * 2;
		}
		if (ngroups > SWAP_GROUPS_MAX) {
			r = -E2BIG;
			goto out;
		}
	}
	g->names = calloc((size_t)ngroups, sizeof(*g->names));
	g->owned = calloc((size_t)ngroups, sizeof(*g->owned));
	if (!g->names || !g->owned) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ngroups; i++) {
		char *copy;

		while ((r = getgrgid_r(gids[i], &grp, buf, buflen, &grpp)) == ERANGE &&
		       buflen < (1u << 24)) {
			char *nb = realloc(buf, buflen *= 2);

			if (!nb) {
				r = ENOMEM;
				break;
			}
			buf = nb;
		}
		if (r) {
			r = -r;
			goto out;
		}
		if (!grpp)
			continue;
		copy = strdup(grp.gr_name);
		if (!copy) {
			r = -ENOMEM;
			goto out;
		}
		g->owned[g->nowned++] = copy;
		g->names[g->n++] = copy;
	}
	r = 0;
out:
	free(gids);
	free(buf);
	return r;
}

static const char *find_group(const struct group_names *g, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (strlen(g->names[i]) == len && !memcmp(g->names[i], name, len))
			return g->names[i];
	return NULL;
}

static enum accord_reason swap(const struct accord_logon_ctx *ctx,
			       struct accord_decision *d)
{
	const char *target = ctx->user, *who = ctx->requester;
	struct group_names g;
	struct accord_snap_swap rule;
	const char *permit = NULL;
	size_t tlen = strlen(target);
	uint64_t cursor = 0;
	enum accord_reason res;
	int r;

	if (!who || !*who)
		return decide(d, ACCORD_R_SWAP_DENIED, "swap to %.64s by an unknown requester",
			      target);
	if (!strcmp(who, target)) {
		set_granting(d, "self", "", 0);
		d->reason = ACCORD_R_OK;
		return ACCORD_R_OK;
	}
	if (in_name_list(ctx->cfg->swap_never, target)) {
		set_granting(d, "swap_never", "", 0);
		return decide(d, ACCORD_R_SWAP_DENIED, "%.64s is in swap_never", target);
	}
	r = requester_groups(ctx, who, &g);
	if (r == 1)
		r = system_groups(who, &g);
	if (r == -ENOENT) {
		res = decide(d, ACCORD_R_SWAP_DENIED, "requester %.64s is not a known user", who);
		goto out;
	}
	if (r < 0) {
		res = decide(d, ACCORD_R_INTERNAL_ERROR,
			     "cannot find the groups of requester %.64s: %s", who, strerror(-r));
		goto out;
	}
	/* deny wins over permit, whatever the order */
	while ((r = accord_snap_swap_next(ctx->snap, &cursor, &rule)) == 0) {
		const char *grp;

		if (rule.to_len != tlen || memcmp(rule.to, target, tlen))
			continue;
		grp = find_group(&g, rule.from, rule.from_len);
		if (!grp)
			continue;
		if (rule.kind == ACCORD_SWAP_DENY) {
			set_granting(d, "deny", grp, strlen(grp));
			res = decide(d, ACCORD_R_SWAP_DENIED,
				     "%.64s may not swap to %.64s: deny rule for group %.64s",
				     who, target, grp);
			goto out;
		}
		if (rule.kind == ACCORD_SWAP_PERMIT && !permit)
			permit = grp;
	}
	if (r != -ENOENT) {
		res = decide(d, ACCORD_R_INTERNAL_ERROR,
			     "the swap rules of the snapshot are damaged");
		goto out;
	}
	if (permit) {
		set_granting(d, "permit", permit, strlen(permit));
		d->reason = res = ACCORD_R_OK;
		goto out;
	}
	set_granting(d, "no rule", "", 0);
	res = decide(d, ACCORD_R_SWAP_DENIED, "no swap rule lets %.64s swap to %.64s", who,
		     target);
out:
	group_names_free(&g);
	return res;
}

/* The target need not be an accord profile: swap rules may name a local
 * account such as root. */
enum accord_reason accord_check_swap(const struct accord_logon_ctx *ctx,
				     struct accord_decision *d)
{
	enum accord_reason r = lookup(ctx, d);

	if (r == ACCORD_R_UNKNOWN_USER && ctx->user && *ctx->user) {
		d->detail[0] = '\0';
		r = ACCORD_R_OK;
	}
	return r == ACCORD_R_OK ? swap(ctx, d) : r;
}

/* ---- phases ------------------------------------------------------------- */

enum accord_reason accord_decide_account(const struct accord_logon_ctx *ctx,
					 struct accord_decision *d)
{
	struct accord_profile_ref ref;
	struct accord_err err = { 0 };
	enum accord_reason r = lookup(ctx, d);

	if (r != ACCORD_R_OK)
		return r;
	r = status(ctx, d);
	if (r != ACCORD_R_OK)
		return r;
	r = appl(ctx, d);
	if (r != ACCORD_R_OK)
		return r;
	if (ctx->swap) {
		/* the record names what let the swap through: the swap's
		 * granting replaces the application's */
		r = swap(ctx, d);
		if (r != ACCORD_R_OK)
			return r;
	}
	ref = ref_of(d);
	if (accord_logon_touch(ctx->secrets, &ref, ctx->now, &err) < 0)
		return decide(d, ACCORD_R_OK, "logon allowed (%s); the logon time was not "
			      "recorded: %s", d->granting, err.msg);
	return decide(d, ACCORD_R_OK, "logon allowed (%s)", d->granting);
}

enum accord_reason accord_decide_auth_pre(const struct accord_logon_ctx *ctx,
					  unsigned method,
					  struct accord_decision *d)
{
	enum accord_reason r = lookup(ctx, d);
	unsigned usable = method & ACCORD_METHOD_PASSWORD;

	if (r != ACCORD_R_OK)
		return r;
	r = status(ctx, d);
	if (r != ACCORD_R_OK)
		return r;
	if (d->user.flags & ACCORD_F_NO_PASSWORD)
		usable &= ~ACCORD_METHOD_PASSWORD;
	if (!usable) {
		if (method & ACCORD_METHOD_PASSWORD)
			return decide(d, ACCORD_R_NO_PASSWORD,
				      "%s has no password (password logon refused)",
				      d->user.name);
		return decide(d, ACCORD_R_METHOD_REFUSED,
			      "no logon method this module knows was offered (0x%x)", method);
	}
	return decide(d, ACCORD_R_OK, "%s may be asked for a password", d->user.name);
}

/* Verifies pw for d->user and counts a bad one.  OK, BAD_SECRET,
 * REVOKED_FAILURES or INTERNAL_ERROR; d->failures set. */
static enum accord_reason verify_and_count(const struct accord_logon_ctx *ctx,
					   const char *pw, struct accord_decision *d)
{
	struct accord_profile_ref ref = ref_of(d);
	struct accord_logon_rec after;
	struct accord_err err = { 0 };
	const char *name = d->user.name;
	int r;

	if (!ctx->secrets) {
		accord_secret_dummy_verify(pw);
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the secrets store could not be opened; cannot verify %s", name);
	}
	r = accord_secret_verify(ctx->secrets, &ref, pw ? pw : "", &err);
	if (r == 0)
		return ACCORD_R_OK;
	if (r != -EACCES && r != -ENOENT)
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s", err.msg);
	/* RACF: protected profiles are never revoked for failures */
	if (d->user.flags & ACCORD_F_PROTECTED)
		return decide(d, ACCORD_R_BAD_SECRET, "bad password for protected %s (%s)",
			      name, r == -ENOENT ? "none stored" : "not counted");
	if (accord_logon_failure(ctx->secrets, &ref, ctx->cfg->revoke_after, ctx->now,
				 &after, &err) < 0)
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "bad password for %s, and the failure could not be counted: %s",
			      name, err.msg);
	d->failures = after.failures;
	/*
	 * This attempt revoked the profile when the count reached the limit
	 * now; revoked_at == last_failure also covers a limit lowered below
	 * a count that was already higher.
	 */
	if (after.revoked == ACCORD_LOGON_REVOKED_FAILURES &&
	    (after.failures == ctx->cfg->revoke_after ||
	     after.revoked_at == after.last_failure))
		return decide(d, ACCORD_R_REVOKED_FAILURES,
			      "bad password for %s: %u in a row, profile revoked", name,
			      after.failures);
	return decide(d, ACCORD_R_BAD_SECRET, "bad password for %s (%s, %u in a row)", name,
		      r == -ENOENT ? "none stored" : "no match", after.failures);
}

enum accord_reason accord_decide_password(const struct accord_logon_ctx *ctx,
					  const char *pw,
					  struct accord_decision *d)
{
	struct accord_profile_ref ref;
	struct accord_err err = { 0 };
	enum accord_reason r = lookup(ctx, d);

	if (r != ACCORD_R_OK) {
		/* as long as a real verify */
		accord_secret_dummy_verify(pw);
		return r;
	}
	r = verify_and_count(ctx, pw, d);
	if (r != ACCORD_R_OK)
		return r;
	ref = ref_of(d);
	if (accord_logon_success(ctx->secrets, &ref, ctx->now, &err) < 0)
		/* the password was right; a count left standing is the lesser
		 * harm than refusing a correct logon */
		return decide(d, ACCORD_R_OK,
			      "password verified for %s; the success could not be recorded: %s",
			      d->user.name, err.msg);
	d->failures = 0;
	return decide(d, ACCORD_R_OK, "password verified for %s", d->user.name);
}

/* Characters, not bytes: a UTF-8 sequence counts once. */
static size_t pw_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

enum accord_reason accord_decide_chauthtok(const struct accord_logon_ctx *ctx,
					   const char *old, const char *new_pw,
					   struct accord_decision *d)
{
	struct accord_profile_ref ref;
	struct accord_err err = { 0 };
	enum accord_reason r = lookup(ctx, d);

	if (r != ACCORD_R_OK)
		return r;
	r = status(ctx, d);
	if (r != ACCORD_R_OK)
		return r;
	if (d->user.flags & ACCORD_F_NO_PASSWORD)
		return decide(d, ACCORD_R_NO_PASSWORD,
			      "%s has no password and may not set one", d->user.name);
	if (old) {
		r = verify_and_count(ctx, old, d);
		if (r != ACCORD_R_OK)
			return r;
	}
	if (!new_pw || pw_length(new_pw) < ctx->cfg->password_min_length)
		return decide(d, ACCORD_R_PASSWORD_REJECTED,
			      "new password for %s is shorter than %u characters",
			      d->user.name, ctx->cfg->password_min_length);
	if (!strcmp(new_pw, d->user.name))
		return decide(d, ACCORD_R_PASSWORD_REJECTED,
			      "new password for %s is the user name", d->user.name);
	if (old && !strcmp(new_pw, old))
		return decide(d, ACCORD_R_PASSWORD_REJECTED,
			      "new password for %s is the old one", d->user.name);
	if (!ctx->secrets)
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the secrets store could not be opened; cannot set the "
			      "password of %s", d->user.name);
	ref = ref_of(d);
	if (accord_secret_set(ctx->secrets, &ref, new_pw, &err) < 0)
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s", err.msg);
	/* the old password was a full authentication: the count starts over */
	if (old) {
		if (accord_logon_success(ctx->secrets, &ref, ctx->now, &err) < 0)
			return decide(d, ACCORD_R_OK, "password of %s changed; the success "
				      "could not be recorded: %s", d->user.name, err.msg);
		d->failures = 0;
	}
	return decide(d, ACCORD_R_OK, "password of %s changed", d->user.name);
}
