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
#include <accord/passticket.h>
#include <accord/ptstore.h>

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
	[ACCORD_R_REPLAY] = "replay",
	[ACCORD_R_TICKET_EXPIRED] = "ticket_expired",
	[ACCORD_R_NO_KEY] = "no_key",
	[ACCORD_R_NO_CERT] = "no_certificate",
	[ACCORD_R_CERT_POP] = "cert_pop_failed",
	[ACCORD_R_CERT_INVALID] = "cert_invalid",
	[ACCORD_R_CERT_UNMAPPED] = "cert_unmapped",
	[ACCORD_R_CERT_NOTRUST] = "cert_notrust",
	[ACCORD_R_CERT_MISMATCH] = "cert_user_mismatch",
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

/* ---- logon methods ------------------------------------------------------ */

/* The RACF IDs a PassTicket of this decision is computed for. */
struct pt_ids {
	char user[ACCORD_PT_ID_MAX + 1];
	char appl[ACCORD_PT_ID_MAX + 1];
	char group[ACCORD_PT_ID_MAX + 1];
	bool has_group;             /* the primary group is a RACF ID */
};

/* The method the audit record names when nothing more specific is known:
 * passticket when it is the only one of the stack's methods this profile
 * could use, else password. */
static unsigned main_method(unsigned methods)
{
	return (methods & ACCORD_METHOD_PASSTICKET) && !(methods & ACCORD_METHOD_PASSWORD)
		       ? ACCORD_METHOD_PASSTICKET
		       : ACCORD_METHOD_PASSWORD;
}

/*
 * Which of `methods` d->user may use here.  A no-password profile loses
 * PASSWORD; a protected one (only reached in batch stacks) loses
 * PASSTICKET (RACF); PASSTICKET also needs an application and a profile
 * name that are RACF IDs (racf-id aliases are not supported yet).  why
 * gets the reason PASSTICKET was taken away, ids the RACF IDs.
 */
static unsigned usable_methods(const struct accord_logon_ctx *ctx,
			       const struct accord_decision *d, unsigned methods,
			       struct pt_ids *ids, char *why, size_t whylen)
{
	unsigned usable = methods & (ACCORD_METHOD_PASSWORD | ACCORD_METHOD_PASSTICKET);
	struct accord_snap_group gr;
	struct accord_err err = { 0 };
	struct safe sa;

	memset(ids, 0, sizeof(*ids));
	why[0] = '\0';
	if (d->user.flags & ACCORD_F_NO_PASSWORD)
		usable &= ~ACCORD_METHOD_PASSWORD;
	if (!(usable & ACCORD_METHOD_PASSTICKET))
		return usable;
	if (d->user.flags & ACCORD_F_PROTECTED) {
		usable &= ~ACCORD_METHOD_PASSTICKET;
		snprintf(why, whylen, "%s is protected: PassTickets are refused", d->user.name);
	} else if (accord_pt_racf_id("application", ctx->appl ? ctx->appl : "", ids->appl,
				     &err) < 0) {
		usable &= ~ACCORD_METHOD_PASSTICKET;
		snprintf(why, whylen,
			 "application %s is no RACF application name (1-8 of A-Z 0-9 @ # $): "
			 "no PassTickets", safe(&sa, ctx->appl));
	} else if (accord_pt_racf_id("user", d->user.racf_id[0] ? d->user.racf_id
								 : d->user.name,
				     ids->user, &err) < 0) {
		/* the alias, when there is one, is valid: the reader checks it */
		usable &= ~ACCORD_METHOD_PASSTICKET;
		snprintf(why, whylen,
			 "%s is no RACF user ID (1-8 of A-Z 0-9 @ # $) and has no racf-id "
			 "alias: no PassTickets", d->user.name);
	} else if (accord_snap_group_by_gid(ctx->snap, d->user.gid, &gr) == 0 &&
		   accord_pt_racf_id("group", gr.name, ids->group, &err) == 0) {
		ids->has_group = true;
	}
	return usable;
}

/* No usable method left: the reason, and the method the record names. */
static enum accord_reason refuse_methods(struct accord_decision *d, unsigned methods,
					 const char *why)
{
	const char *sep = why[0] ? "; " : "";

	if ((methods & ACCORD_METHOD_PASSTICKET) && (d->user.flags & ACCORD_F_PROTECTED)) {
		d->method = ACCORD_METHOD_PASSTICKET;
		return decide(d, ACCORD_R_PROTECTED, "%s", why);
	}
	if (methods & ACCORD_METHOD_PASSWORD) {
		d->method = ACCORD_METHOD_PASSWORD;
		return decide(d, ACCORD_R_NO_PASSWORD,
			      "%s has no password (password logon refused)%s%s", d->user.name,
			      sep, why);
	}
	if (methods & ACCORD_METHOD_PASSTICKET) {
		d->method = ACCORD_METHOD_PASSTICKET;
		return decide(d, ACCORD_R_METHOD_REFUSED, "%s", why);
	}
	return decide(d, ACCORD_R_METHOD_REFUSED,
		      "no logon method this module knows was offered (0x%x)", methods);
}

enum accord_reason accord_decide_auth_pre(const struct accord_logon_ctx *ctx,
					  unsigned method,
					  struct accord_decision *d)
{
	enum accord_reason r = lookup(ctx, d);
	struct pt_ids ids;
	char why[192];
	unsigned usable;

	d->method = main_method(method);
	if (r != ACCORD_R_OK)
		return r;
	r = status(ctx, d);
	if (r != ACCORD_R_OK)
		return r;
	usable = usable_methods(ctx, d, method, &ids, why, sizeof(why));
	if (!usable)
		return refuse_methods(d, method, why);
	d->method = main_method(usable);
	if (usable == ACCORD_METHOD_PASSWORD)
		return decide(d, ACCORD_R_OK, "%s may be asked for a password", d->user.name);
	return decide(d, ACCORD_R_OK, "%s may be asked for a %s", d->user.name,
		      usable & ACCORD_METHOD_PASSWORD ? "password or a PassTicket"
						      : "PassTicket");
}

enum accord_reason accord_decide_cert(const struct accord_logon_ctx *ctx,
				      struct accord_decision *d)
{
	enum accord_reason r = lookup(ctx, d);

	d->method = ACCORD_METHOD_CERT;
	if (r == ACCORD_R_UNKNOWN_USER)
		return decide(d, r, "the certificate maps to a user that is no accord profile");
	if (r != ACCORD_R_OK)
		return r;
	r = status(ctx, d);
	if (r != ACCORD_R_OK)
		return r;
	return decide(d, ACCORD_R_OK, "%s logs on with a certificate", d->user.name);
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

/* ---- PassTickets ---------------------------------------------------- */

/* 8 characters of the union of the ticket alphabets (legacy A-Z0-9 folded
 * from either case; enhanced UPPER 0-9A-Z; MIXED 0-9A-Za-z-_). */
static bool looks_like_ticket(const char *s)
{
	size_t i;

	/* no <ctype.h>: the host application's locale must not matter */
	for (i = 0; i < ACCORD_PT_LEN; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return s[ACCORD_PT_LEN] == '\0';
}

static char ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

enum pt_outcome {
	PT_NOT_TRIED = 0,
	PT_INVALID,        /* no time maps to it under any key */
	PT_FAR,            /* decodes far outside the window: no ticket */
	PT_EXPIRED,        /* decodes near the window: an old or skewed one */
	PT_REPLAY,         /* valid, and used before */
	PT_ACCEPTED,       /* valid, claimed */
};

/* One attempt: the keys found before the lock, what the check found. */
struct pt_try {
	const struct accord_logon_ctx *ctx;
	const struct pt_ids *ids;
	struct accord_profile_ref ref;
	const char *secret;
	bool looks;                 /* try it as a ticket */
	bool try_pw;                /* then as the password */
	struct accord_pt_key key[2];
	char key_name[2][ACCORD_PT_PROFILE_MAX + 1];
	int nkeys;
	/* filled by pt_check() */
	bool called;
	enum pt_outcome pt;
	int key_used;               /* index of the key the outcome is from */
	uint64_t t_gen;
	bool pw_tried;
	bool pw_none;               /* no password stored */
};

/*
 * The keys a ticket of this profile is tried with: the one of
 * accord_pt_key_find() (APPL.GROUP.USER > APPL.USER > APPL.GROUP > APPL),
 * then the plain APPL key when the first is a qualified one (RACF falls
 * back to it).  0 (t->nkeys >= 1), -ENOENT (none), or another error.
 */
static int pt_find_keys(struct pt_try *t, struct accord_err *err)
{
	struct accord_secrets *s = t->ctx->secrets;
	int r;

	t->nkeys = 0;
	r = accord_pt_key_find(s, t->ids->appl, t->ids->has_group ? t->ids->group : NULL,
			       t->ids->user, &t->key[0], t->key_name[0], err);
	if (r < 0)
		return r;
	t->key_name[0][ACCORD_PT_PROFILE_MAX] = '\0';
	t->nkeys = 1;
	if (!strcmp(t->key_name[0], t->ids->appl))
		return 0;
	r = accord_pt_key_get(s, t->ids->appl, &t->key[1], err);
	if (r == -ENOENT) {
		err->msg[0] = '\0';
		return 0;
	}
	if (r < 0)
		return r;
	snprintf(t->key_name[1], sizeof(t->key_name[1]), "%s", t->ids->appl);
	t->nkeys = 2;
	return 0;
}

static void pt_wipe(struct pt_try *t)
{
	accord_pt_key_wipe(&t->key[0]);
	accord_pt_key_wipe(&t->key[1]);
}

/*
 * The check accord_logon_check() runs under the logon record's lock, the
 * attempt counted: the secret as a ticket (each key in turn; a valid one
 * is claimed in the replay cache unless its key opted out), then, when
 * that did not succeed and the stack allows it, as the password.  Every
 * path spends about one password hash.
 */
static int pt_check(void *arg, struct accord_err *err)
{
	struct pt_try *t = arg;
	const struct accord_logon_ctx *ctx = t->ctx;
	int i, r;

	t->called = true;
	for (i = 0; t->looks && i < t->nkeys; i++) {
		struct accord_err e = { 0 };
		uint64_t tg = 0;
		int64_t off;

		r = accord_pt_verify(&t->key[i], t->ids->user, t->ids->appl, t->secret,
				     (uint64_t)ctx->now, &tg, &e);
		if (r == 0) {
			t->pt = PT_ACCEPTED;
			t->key_used = i;
			t->t_gen = tg;
			break;
		}
		if (r == -ETIME) {
			off = (int64_t)tg - ctx->now;
			if (off < 0)
				off = -off;
			if (off <= (int64_t)t->key[i].window + ACCORD_PT_EXPIRED_PLAUSIBLE) {
				t->pt = PT_EXPIRED;
				t->key_used = i;
				t->t_gen = tg;
			} else if (t->pt < PT_FAR) {
				t->pt = PT_FAR;
				t->key_used = i;
				t->t_gen = tg;
			}
			continue;
		}
		if (r != -EINVAL) {
			/* an error, not a verdict (fail closed) */
			accord_secret_dummy_verify(t->secret);
			return accord_err_set(err, r == -EACCES || r == -ENOENT ? -EIO : r,
					      "PassTicket check with key %s: %s",
					      t->key_name[i], e.msg);
		}
		if (t->pt < PT_INVALID)
			t->pt = PT_INVALID;
	}
	if (t->pt == PT_ACCEPTED) {
		const struct accord_pt_key *k = &t->key[t->key_used];
		char canon[ACCORD_PT_LEN + 1];

		if (!k->replay_protection)
			return 0;
		/* the cache is keyed on the ticket as validated: folded to
		 * upper case except MIXED, so "abcd1234" cannot replay
		 * "ABCD1234" */
		for (i = 0; i <= ACCORD_PT_LEN; i++)
			canon[i] = k->alg == ACCORD_PT_ENHANCED && k->type == ACCORD_PT_MIXED
					   ? t->secret[i]
					   : ascii_upper(t->secret[i]);
		r = accord_pt_replay_claim(ctx->secrets, t->ids->user, t->ids->appl, canon,
					   (int64_t)t->t_gen + (int64_t)k->window, ctx->now,
					   err);
		explicit_bzero(canon, sizeof(canon));
		if (r == 0)
			return 0;
		if (r != -EALREADY) {
			/* fail closed: an unrecorded ticket could be used again */
			accord_err_prefix(err, r, "the PassTicket could not be recorded in the "
					  "replay cache");
			return r == -EACCES ? -EIO : r;
		}
		t->pt = PT_REPLAY;
	}
	if (t->try_pw) {
		t->pw_tried = true;
		r = accord_secret_verify(ctx->secrets, &t->ref, t->secret, err);
		if (r == 0)
			return 0;
		if (r == -ENOENT)
			t->pw_none = true;
		else if (r != -EACCES)
			return r;
	} else {
		accord_secret_dummy_verify(t->secret);
	}
	return -EACCES;
}

/* The reason of a refused ticket (the password, if tried, failed too). */
static enum accord_reason pt_refusal(const struct pt_try *t)
{
	switch (t->pt) {
	case PT_REPLAY:
		return ACCORD_R_REPLAY;
	case PT_EXPIRED:
		return ACCORD_R_TICKET_EXPIRED;
	default:
		return ACCORD_R_BAD_SECRET;
	}
}

/* What the detail says about the ticket (never the ticket itself). */
static void pt_describe(const struct pt_try *t, char *buf, size_t len)
{
	const char *key = t->nkeys ? t->key_name[t->key_used] : "";

	switch (t->pt) {
	case PT_NOT_TRIED:
		snprintf(buf, len, "%s", t->looks ? "no PassTicket key" : "not a PassTicket");
		break;
	case PT_INVALID:
		snprintf(buf, len, "no valid PassTicket (key%s %s%s%s)", t->nkeys > 1 ? "s" : "",
			 t->key_name[0], t->nkeys > 1 ? ", " : "",
			 t->nkeys > 1 ? t->key_name[1] : "");
		break;
	case PT_FAR:
		snprintf(buf, len, "not a PassTicket in any plausible time (key %s decodes it "
			 "to @%llu)", key, (unsigned long long)t->t_gen);
		break;
	case PT_EXPIRED:
		snprintf(buf, len, "PassTicket generated @%llu, outside the %u s window "
			 "(key %s)", (unsigned long long)t->t_gen, t->key[t->key_used].window,
			 key);
		break;
	case PT_REPLAY:
		snprintf(buf, len, "PassTicket generated @%llu was used before (key %s)",
			 (unsigned long long)t->t_gen, key);
		break;
	case PT_ACCEPTED:
		snprintf(buf, len, "PassTicket generated @%llu accepted (key %s%s)",
			 (unsigned long long)t->t_gen, key,
			 t->key[t->key_used].replay_protection ? "" : ", no replay protection");
		break;
	}
}

/* The ticket path: keys found, then one counted check. */
static enum accord_reason decide_ticket(const struct accord_logon_ctx *ctx,
					struct pt_try *t, struct accord_decision *d)
{
	struct accord_logon_rec after;
	struct accord_err err = { 0 };
	const char *name = d->user.name;
	enum accord_reason why;
	char what[192];
	int r;

	r = accord_logon_check(ctx->secrets, &t->ref, pt_check, t, ctx->cfg->revoke_after,
			       ctx->now, &after, &err);
	if (!t->called)
		accord_secret_dummy_verify(t->secret); /* about one hash, always */
	pt_describe(t, what, sizeof(what));
	/* passticket: a ticket was accepted or is the reason of the refusal
	 * (or nothing else was tried); else password */
	d->method = t->pt == PT_ACCEPTED || t->pt == PT_REPLAY || t->pt == PT_EXPIRED ||
				    !t->pw_tried
			    ? ACCORD_METHOD_PASSTICKET
			    : ACCORD_METHOD_PASSWORD;
	switch (r) {
	case 0:
	case 1:
		d->method = t->pt == PT_ACCEPTED ? ACCORD_METHOD_PASSTICKET
						 : ACCORD_METHOD_PASSWORD;
		d->failures = r == 0 ? 0 : after.failures;
		if (t->pt == PT_ACCEPTED)
			return decide(d, ACCORD_R_OK, "%s for %s%s%s", what, name,
				      r == 1 ? "; " : "", r == 1 ? err.msg : "");
		return decide(d, ACCORD_R_OK, "password verified for %s (%s)%s%s", name, what,
			      r == 1 ? "; " : "", r == 1 ? err.msg : "");
	case -EKEYREVOKED:
		d->method = main_method(t->try_pw ? ACCORD_METHOD_PASSWORD |
							    ACCORD_METHOD_PASSTICKET
						  : ACCORD_METHOD_PASSTICKET);
		return decide(d, revoked_reason(after.revoked),
			      "%s is revoked (@%lld); the secret was not checked", name,
			      (long long)after.revoked_at);
	case -EACCES:
		d->failures = after.failures;
		why = pt_refusal(t);
		if (after.revoked == ACCORD_LOGON_REVOKED_FAILURES)
			return decide(d, ACCORD_R_REVOKED_FAILURES,
				      "%s for %s%s: %u bad secrets in a row, profile revoked",
				      what, name, t->pw_tried ? ", and not its password" : "",
				      after.failures);
		return decide(d, why, "%s for %s%s (%u in a row)", what, name,
			      !t->pw_tried ? ""
			      : t->pw_none ? ", no password stored"
					   : ", and not its password",
			      after.failures);
	default:
		d->failures = after.failures ? (int64_t)after.failures : -1;
		return decide(d, ACCORD_R_INTERNAL_ERROR, "%s", err.msg);
	}
}

enum accord_reason accord_decide_secret(const struct accord_logon_ctx *ctx,
					unsigned methods, const char *secret,
					struct accord_decision *d)
{
	struct accord_err err = { 0 };
	enum accord_reason r;
	struct pt_ids ids;
	struct pt_try *t;
	char why[192];
	unsigned usable;
	int rc;

	if (!secret)
		secret = "";
	if (methods == ACCORD_METHOD_PASSWORD) {
		r = accord_decide_password(ctx, secret, d);
		d->method = ACCORD_METHOD_PASSWORD;
		return r;
	}
	r = lookup(ctx, d);
	if (r == ACCORD_R_OK)
		r = snap_status(ctx, d);
	d->method = main_method(methods);
	if (r != ACCORD_R_OK) {
		accord_secret_dummy_verify(secret);
		return r;
	}
	usable = usable_methods(ctx, d, methods, &ids, why, sizeof(why));
	if (!usable) {
		accord_secret_dummy_verify(secret);
		return refuse_methods(d, methods, why);
	}
	/* as a password only: not a ticket, or no ticket allowed */
	if (!(usable & ACCORD_METHOD_PASSTICKET) ||
	    ((usable & ACCORD_METHOD_PASSWORD) && !looks_like_ticket(secret))) {
		d->method = ACCORD_METHOD_PASSWORD;
		return verify_and_count(ctx, secret, d);
	}
	if (!ctx->secrets) {
		accord_secret_dummy_verify(secret);
		return decide(d, ACCORD_R_INTERNAL_ERROR,
			      "the secrets store could not be opened; cannot check the "
			      "PassTicket of %s", d->user.name);
	}
	/* the keys (up to 2 KiB of them) live on the heap, wiped after use */
	t = calloc(1, sizeof(*t));
	if (!t) {
		accord_secret_dummy_verify(secret);
		return decide(d, ACCORD_R_INTERNAL_ERROR, "out of memory");
	}
	t->ctx = ctx;
	t->ids = &ids;
	t->ref = ref_of(d);
	t->secret = secret;
	t->looks = looks_like_ticket(secret);
	t->try_pw = usable & ACCORD_METHOD_PASSWORD;
	rc = pt_find_keys(t, &err);
	if (rc == -ENOENT) {
		pt_wipe(t);
		free(t);
		if (usable & ACCORD_METHOD_PASSWORD) {
			d->method = ACCORD_METHOD_PASSWORD;
			return verify_and_count(ctx, secret, d);
		}
		accord_secret_dummy_verify(secret);
		d->method = ACCORD_METHOD_PASSTICKET;
		return decide(d, ACCORD_R_NO_KEY,
			      "no PassTicket key for application %s (user %s%s%s); not counted",
			      ids.appl, ids.user, ids.has_group ? ", group " : "",
			      ids.has_group ? ids.group : "");
	}
	if (rc < 0) {
		pt_wipe(t);
		free(t);
		accord_secret_dummy_verify(secret);
		d->method = ACCORD_METHOD_PASSTICKET;
		return decide(d, ACCORD_R_INTERNAL_ERROR, "PassTicket keys of %s: %s",
			      ids.appl, err.msg);
	}
	r = decide_ticket(ctx, t, d);
	pt_wipe(t);
	explicit_bzero(t, sizeof(*t));
	free(t);
	return r;
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
