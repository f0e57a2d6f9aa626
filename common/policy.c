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

/*
 * Names that come from the other end (PAM_USER, PAM_RUSER, the service)
 * or from free text (a revoke reason) go into d->detail through this:
 * at most SAFE_MAX bytes ("..." after a cut), and every byte outside
 * printable ASCII, a backslash or a quote as \xHH, so a detail that
 * reaches a log can carry neither a line break, a terminal escape, a
 * bidi control nor a forged quote.
 */
#define SAFE_MAX 64
struct safe {
	char s[4 * SAFE_MAX + 4];
};

static const char *safe(struct safe *b, const char *v)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, i;

	if (!v)
		v = "";
	for (i = 0; v[i]; i++) {
		unsigned char c = (unsigned char)v[i];

		if (i == SAFE_MAX) {
			memcpy(b->s + n, "...", 3);
			n += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'' || c == '"') {
			b->s[n++] = '\\';
			b->s[n++] = 'x';
			b->s[n++] = hex[c >> 4];
			b->s[n++] = hex[c & 15];
		} else {
			b->s[n++] = (char)c;
		}
	}
	b->s[n] = '\0';
	return b->s;
}

__attribute__((format(printf, 3, 4)))
static enum accord_reason decide(struct accord_decision *d, enum accord_reason r,
				 const char *fmt, ...)
{
	va_list ap;
	int n;

	d->reason = r;
	va_start(ap, fmt);
	n = vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(d->detail)) {
		/* cut: never end in half a \xHH escape */
		size_t len = strlen(d->detail), k;

		for (k = len > 3 ? len - 3 : 0; k < len; k++)
			if (d->detail[k] == '\\') {
				d->detail[k] = '\0';
				break;
			}
	}
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

/* accord.conf's lock_timeout (seconds) bounds the logon record locks
 * too; at least a second, since a holder verifies one password. */
static unsigned lock_ms(const struct accord_config *cfg)
{
	return cfg->lock_timeout < 1 ? 1000u : cfg->lock_timeout * 1000u;
}

/* Fills d->user from the snapshot.  OK, UNKNOWN_USER or INTERNAL_ERROR. */
static enum accord_reason lookup(const struct accord_logon_ctx *ctx,
				 struct accord_decision *d)
{
	struct safe su;
	int r;

	memset(d, 0, sizeof(*d));
	d->failures = -1;
	d->last_success = -1;
	if (!ctx->cfg || !ctx->snap)
		return decide(d, ACCORD_R_INTERNAL_ERROR, "no configuration or snapshot");
	if (ctx->secrets)
		accord_secrets_set_lock_timeout(ctx->secrets, lock_ms(ctx->cfg));
	if (!ctx->user || !*ctx->user)
		return decide(d, ACCORD_R_UNKNOWN_USER, "no user name");
	r = accord_snap_user_by_name(ctx->snap, ctx->user, &d->user);
	if (r == -ENOENT)
		return decide(d, ACCORD_R_UNKNOWN_USER, "no accord profile named '%s'",
			      safe(&su, ctx->user));
	if (r < 0) {
		memset(&d->user, 0, sizeof(d->user));
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the snapshot record of %s is damaged (generation %llu)",
			      safe(&su, ctx->user), (unsigned long long)ctx->snap->generation);
	}
	d->known = true;
	d->reason = ACCORD_R_OK;
	return ACCORD_R_OK;
}

/* ---- status ------------------------------------------------------------- */

/* The snapshot's part of the status: disabled, revoked (admin), expired. */
static enum accord_reason snap_status(const struct accord_logon_ctx *ctx,
				      struct accord_decision *d)
{
	const struct accord_snap_user *u = &d->user;
	int64_t now = ctx->now;
	struct safe sr;

	switch (accord_user_status(u->flags)) {
	case ACCORD_STATUS_ENABLED:
		break;
	case ACCORD_STATUS_DISABLED:
		return decide(d, ACCORD_R_DISABLED, "%s is disabled", u->name);
	case ACCORD_STATUS_REVOKED:
		/* a resume date that has come lifts an administrator's revoke */
		if (!(u->resume_date && now >= u->resume_date)) {
			char reason[SAFE_MAX + 1];

			snprintf(reason, sizeof(reason), "%.*s",
				 (int)(u->reason_len < SAFE_MAX ? u->reason_len : SAFE_MAX),
				 u->reason_len && u->reason ? u->reason : "");
			return decide(d, ACCORD_R_REVOKED, "%s is revoked%s%s", u->name,
				      u->reason_len ? ": " : "", safe(&sr, reason));
		}
		break;
	default:
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s has an unknown status %u",
			      u->name, accord_user_status(u->flags));
	}
	if (u->revoke_date && now >= u->revoke_date &&
	    !(u->resume_date > u->revoke_date && now >= u->resume_date))
		return decide(d, ACCORD_R_EXPIRED, "%s reached its revoke date (@%lld)",
			      u->name, (long long)u->revoke_date);
	d->reason = ACCORD_R_OK;
	return ACCORD_R_OK;
}

static enum accord_reason status(const struct accord_logon_ctx *ctx,
				 struct accord_decision *d)
{
	const struct accord_snap_user *u = &d->user;
	struct accord_profile_ref ref = ref_of(d);
	struct accord_logon_rec rec;
	struct accord_err err = { 0 };
	bool protected = u->flags & ACCORD_F_PROTECTED;
	int64_t now = ctx->now, last;
	enum accord_reason sr = snap_status(ctx, d);

	if (sr != ACCORD_R_OK)
		return sr;
	if (!ctx->secrets)
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the secrets store could not be opened; logon records of %s "
			      "cannot be checked", u->name);
	if (accord_logon_read(ctx->secrets, &ref, &rec, &err) < 0)
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s", err.msg);
	d->last_success = rec.last_success;
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
	struct safe sa, sg;
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
				      "application %s is not defined and protect_all is set",
				      safe(&sa, ctx->appl));
		d->reason = ACCORD_R_OK;
		return ACCORD_R_OK;
	}
	if (r < 0)
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the snapshot record of application %s is damaged",
			      safe(&sa, ctx->appl));
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
			      "the access list of application %s is damaged",
			      safe(&sa, ctx->appl));
	if (!matched) {
		best = a.uacc;
		set_granting(d, "uacc", "", 0);
	}
	if (best >= ACCORD_ACCESS_READ) {
		d->reason = ACCORD_R_OK;
		return ACCORD_R_OK;
	}
	return decide(d, ACCORD_R_APPL_DENIED, "%s has no access to application %s (%s)",
		      u->name, safe(&sa, ctx->appl), safe(&sg, d->granting));
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
	struct safe sw, st, sg;
	size_t tlen = strlen(target);
	uint64_t cursor = 0;
	enum accord_reason res;
	int r;

	if (!who || !*who)
		return decide(d, ACCORD_R_SWAP_DENIED, "swap to %s by an unknown requester",
			      safe(&st, target));
	if (!strcmp(who, target)) {
		set_granting(d, "self", "", 0);
		d->reason = ACCORD_R_OK;
		return ACCORD_R_OK;
	}
	if (in_name_list(ctx->cfg->swap_never, target)) {
		set_granting(d, "swap_never", "", 0);
		return decide(d, ACCORD_R_SWAP_DENIED, "%s is in swap_never", safe(&st, target));
	}
	r = requester_groups(ctx, who, &g);
	if (r == 1)
		r = system_groups(who, &g);
	if (r == -ENOENT) {
		res = decide(d, ACCORD_R_SWAP_DENIED, "requester %s is not a known user",
			     safe(&sw, who));
		goto out;
	}
	if (r < 0) {
		res = decide(d, ACCORD_R_INTERNAL_ERROR,
			     "cannot find the groups of requester %s: %s", safe(&sw, who),
			     strerror(-r));
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
				     "%s may not swap to %s: deny rule for group %s",
				     safe(&sw, who), safe(&st, target), safe(&sg, grp));
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
	res = decide(d, ACCORD_R_SWAP_DENIED, "no swap rule lets %s swap to %s",
		     safe(&sw, who), safe(&st, target));
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

/* Whether swap_never or a swap rule's `to` names this target. */
static bool swap_names(const struct accord_logon_ctx *ctx, const char *target)
{
	struct accord_snap_swap rule;
	uint64_t cursor = 0;
	size_t tlen = strlen(target);
	int r;

	if (in_name_list(ctx->cfg->swap_never, target))
		return true;
	while ((r = accord_snap_swap_next(ctx->snap, &cursor, &rule)) == 0)
		if (rule.to_len == tlen && !memcmp(rule.to, target, tlen))
			return true;
	return r != -ENOENT; /* damaged rules: treat as named (refused) */
}

enum accord_reason accord_decide_account(const struct accord_logon_ctx *ctx,
					 struct accord_decision *d)
{
	struct accord_profile_ref ref;
	struct accord_err err = { 0 };
	enum accord_reason r = lookup(ctx, d);
	struct safe su;
	bool protected_swap;

	/*
	 * A swap to a local account (root, say): accord does not own the
	 * account, but its swap rules do apply to the local accounts they
	 * name (a rule's `to`, or swap_never).  Refused -> swap_denied;
	 * let through, or named by no rule -> unknown_user, so that a stack
	 * with user_unknown=ignore goes on to pam_unix (root's `su postgres`
	 * in a cron job is not accord's business unless a rule says so).
	 */
	if (r == ACCORD_R_UNKNOWN_USER && ctx->swap && ctx->user && *ctx->user &&
	    !swap_names(ctx, ctx->user))
		return decide(d, ACCORD_R_UNKNOWN_USER,
			      "no accord profile named '%s', and no swap rule names it",
			      safe(&su, ctx->user));
	if (r == ACCORD_R_UNKNOWN_USER && ctx->swap && ctx->user && *ctx->user) {
		d->detail[0] = '\0';
		r = swap(ctx, d);
		if (r != ACCORD_R_OK)
			return r;
		return decide(d, ACCORD_R_UNKNOWN_USER,
			      "no accord profile named '%s'; the swap is allowed (%s)",
			      safe(&su, ctx->user), d->granting);
	}
	if (r != ACCORD_R_OK)
		return r;
	r = status(ctx, d);
	/* A protected profile logs on by no method, but a permitted swap
	 * may run work as it (RACF: a privileged identity switch). */
	protected_swap = r == ACCORD_R_PROTECTED && ctx->swap;
	if (r != ACCORD_R_OK && !protected_swap)
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
		if (protected_swap && !strcmp(d->granting, "self"))
			return decide(d, ACCORD_R_PROTECTED,
				      "%s is protected: no logon as itself", safe(&su, ctx->user));
	}
	ref = ref_of(d);
	/* the record the status check just read says whether the logon
	 * time needs writing (once a day): no second read on the way */
	if (d->last_success >= 0 && d->last_success > ctx->now - DAY)
		return decide(d, ACCORD_R_OK, "logon allowed (%s)", d->granting);
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

static enum accord_reason revoked_reason(uint32_t why)
{
	return why == ACCORD_LOGON_REVOKED_INACTIVE ? ACCORD_R_REVOKED_INACTIVE
						    : ACCORD_R_REVOKED_FAILURES;
}

/* A protected profile: verified, never counted (RACF: never revoked for
 * failures), but a revoke its record holds still stands. */
static enum accord_reason verify_protected(const struct accord_logon_ctx *ctx,
					   const char *pw, struct accord_decision *d)
{
	struct accord_profile_ref ref = ref_of(d);
	struct accord_logon_rec rec;
	struct accord_err err = { 0 };
	const char *name = d->user.name;
	int r;

	if (accord_logon_read(ctx->secrets, &ref, &rec, &err) < 0) {
		accord_secret_dummy_verify(pw);
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s", err.msg);
	}
	if (rec.revoked != ACCORD_LOGON_NOT_REVOKED) {
		accord_secret_dummy_verify(pw);
		return decide(d, revoked_reason(rec.revoked), "%s is revoked (@%lld)", name,
			      (long long)rec.revoked_at);
	}
	r = accord_secret_verify(ctx->secrets, &ref, pw, &err);
	if (r == 0)
		return ACCORD_R_OK;
	if (r != -EACCES && r != -ENOENT)
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s", err.msg);
	return decide(d, ACCORD_R_BAD_SECRET, "bad password for protected %s (%s)",
		      name, r == -ENOENT ? "none stored" : "not counted");
}

/*
 * Verifies pw for d->user through accord_logon_verify(): counted before
 * it is checked, checked under the record's lock, a revoke that came
 * during the prompt honoured.  OK (d->detail set, d->failures 0 or the
 * count that stands), BAD_SECRET, REVOKED_FAILURES, REVOKED_INACTIVE or
 * INTERNAL_ERROR (also when the attempt could not be counted: never a
 * verify that is not counted).
 */
static enum accord_reason verify_and_count(const struct accord_logon_ctx *ctx,
					   const char *pw, struct accord_decision *d)
{
	struct accord_profile_ref ref = ref_of(d);
	struct accord_logon_rec after;
	struct accord_err err = { 0 };
	const char *name = d->user.name;
	int r;

	if (!pw)
		pw = "";
	if (!ctx->secrets) {
		accord_secret_dummy_verify(pw);
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the secrets store could not be opened; cannot verify %s", name);
	}
	if (d->user.flags & ACCORD_F_PROTECTED) {
		enum accord_reason pr = verify_protected(ctx, pw, d);

		if (pr == ACCORD_R_OK)
			decide(d, ACCORD_R_OK, "password verified for %s", name);
		return pr;
	}
	r = accord_logon_verify(ctx->secrets, &ref, pw, ctx->cfg->revoke_after, ctx->now,
				&after, &err);
	switch (r) {
	case 0:
		d->failures = 0;
		return decide(d, ACCORD_R_OK, "password verified for %s", name);
	case 1:
		/* counted, then verified: the count stands until the next
		 * success that can be recorded */
		d->failures = after.failures;
		return decide(d, ACCORD_R_OK, "password verified for %s; %s", name, err.msg);
	case -EKEYREVOKED:
		return decide(d, revoked_reason(after.revoked),
			      "%s is revoked (@%lld); the password was not checked", name,
			      (long long)after.revoked_at);
	case -EACCES:
	case -ENOENT:
		d->failures = after.failures;
		if (after.revoked == ACCORD_LOGON_REVOKED_FAILURES)
			return decide(d, ACCORD_R_REVOKED_FAILURES,
				      "bad password for %s: %u in a row, profile revoked", name,
				      after.failures);
		return decide(d, ACCORD_R_BAD_SECRET, "bad password for %s (%s, %u in a row)",
			      name, r == -ENOENT ? "none stored" : "no match", after.failures);
	default:
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s", err.msg);
	}
}

enum accord_reason accord_decide_password(const struct accord_logon_ctx *ctx,
					  const char *pw,
					  struct accord_decision *d)
{
	enum accord_reason r = lookup(ctx, d);

	/* the snapshot's status again: OK is never the answer for a
	 * profile the snapshot refuses, whatever the caller did before */
	if (r == ACCORD_R_OK)
		r = snap_status(ctx, d);
	if (r != ACCORD_R_OK) {
		/* as long as a real verify */
		accord_secret_dummy_verify(pw);
		return r;
	}
	return verify_and_count(ctx, pw, d);
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
	/* counted and verified under the record's lock; a match resets
	 * the count (a full authentication) */
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
	return decide(d, ACCORD_R_OK, "password of %s changed", d->user.name);
}
