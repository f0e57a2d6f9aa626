/* SPDX-License-Identifier: MIT */
/*
 * pam_accord.so: the PAM adapter over libaccord's logon decisions
 * (include/accord/policy.h): passwords and, with methods=passticket, RACF
 * PassTickets typed at the same prompt (accord_decide_secret() decides
 * which the secret is and counts it once); with methods=cert, X.509
 * certificates: proof of possession (pam_cert.c), chain verification
 * (certverify.h) and RACF's DN-filter mapping (certmap.h) before the
 * mapped profile's status is checked.  Each entry point parses its
 * arguments, gathers the PAM items, asks common/ for one decision, turns
 * the reason into a PAM code in pa_code() (the only place that does) and
 * writes one audit record.  Every input comes from the root-owned PAM
 * configuration, accord.conf, the host-local snapshot and the registry's
 * secrets store; nothing is read from the environment.
 *
 * What a call needs (the parsed accord.conf, the snapshot's mapping, the
 * secrets store's directory handles) is kept while the module stays
 * loaded, as a reference-counted "view" (struct pa_view): a process that
 * decides many logons (a long-lived PAM application, the benchmark) pays
 * for it once.  Whether it is current is checked at most once a second,
 * as the NSS module does: lstat() of accord.conf and of the snapshot (a
 * new inode, size, mtime or ctime, and so any chown/chmod, builds a new
 * view with every trust check).  The secrets store is opened only for a
 * name that is an accord profile (local accounts never touch the
 * registry, which may be a hung network mount), and opened again, with
 * its checks, when the handle is a second old.  So a long-lived
 * process sees a new generation (a revoke, say) within a second; a
 * process that loads the module once (sshd, login, su) sees the current
 * one.  Logon records are always read fresh.  libpam
 * dlclose()s the module at pam_end(); the destructor releases the view.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_PASSWORD
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include <accord/audit.h>
#include <accord/certmap.h>
#include <accord/certverify.h>
#include <accord/logon.h>
#include <accord/policy.h>
#include <accord/registry.h>
#include <accord/snapshot.h>

#include "accord_config.h"
#include "pam_cert.h"

#define PA_EXPORT __attribute__((visibility("default")))

/* The prompts.  The same "Password: " for every user, known or not. */
#define PA_PROMPT_PASSWORD "Password: "
#define PA_PROMPT_OLD "Current password: "

/* Audit lines longer than this are truncated by accord_audit_kv(). */
#define PA_AUDIT_LINE 2048
/* A methods= list longer than this is refused rather than read in part. */
#define PA_METHODS_MAX 256

enum pa_phase {
	PA_AUTH,
	PA_ACCOUNT,
	PA_CHAUTHTOK,
	PA_SESSION_OPEN,
	PA_SESSION_CLOSE,
};

static const char *const pa_phase_names[] = {
	[PA_AUTH] = "auth",
	[PA_ACCOUNT] = "account",
	[PA_CHAUTHTOK] = "chauthtok",
	[PA_SESSION_OPEN] = "session_open",
	[PA_SESSION_CLOSE] = "session_close",
};

struct pa_args {
	unsigned methods;  /* ACCORD_METHOD_* */
	const char *appl;  /* NULL: the PAM service name */
	const char *conf;  /* accord.conf */
	bool debug;
	bool swap;         /* su/sudo-like stack: the account phase checks swap rules */
	bool batch;        /* non-interactive stack: protected profiles may run */
	unsigned cert_sources;       /* cert_source=: PA_CERT_* */
	const char *pkcs11_module;   /* pkcs11_module=PATH */
};

/* ---- the view kept between calls --------------------------------------- */

/* What identifies a file's version: any write, rename over, chmod or
 * chown changes one of these. */
struct pa_key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	uid_t uid;
	mode_t mode;
};

struct pa_view {
	unsigned refs;               /* calls using it, +1 while current */
	char conf_path[4096];
	struct pa_key conf_key, snap_key;
	int64_t checked_at;          /* CLOCK_MONOTONIC_COARSE seconds of the
					last lstat() of both files */
	struct accord_config cfg;
	struct accord_snapshot snap; /* mapped when snap_ok */
	bool snap_ok;
	struct pa_secrets *sec;      /* the kept secrets store, or NULL */
	char host[256];
	/* certificate logon, built at the first one (under pa_view_lock) */
	bool certs_built;
	int certs_err;               /* 0, or why the section or trust set failed */
	char certs_msg[ACCORD_ERR_MSG];
	struct accord_certdb certdb; /* points into snap */
	struct accord_trust *trust;
};

/*
 * An open secrets store, shared by the calls of this process that use it.
 * Opened (with its trust checks) only for a name that is an accord
 * profile, so local accounts never touch the registry (which may be a
 * hung network mount), and opened again, outside the lock, when it is a
 * second old; the old handle is closed by the last call that used it.
 */
struct pa_secrets {
	unsigned refs;               /* calls using it, +1 while kept */
	struct accord_secrets *s;
	int64_t opened;              /* CLOCK_MONOTONIC_COARSE seconds */
};

static pthread_mutex_t pa_view_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pa_view *pa_current;   /* under pa_view_lock */
static int pa_loginuid_fd = -1;      /* under pa_view_lock */
static pid_t pa_loginuid_pid;
/* /etc/passwd as last read (see pa_local_uid()); under pa_view_lock */
static struct {
	char *text;          /* NUL-terminated copy, or NULL */
	struct pa_key key;
	int64_t checked_at;
	bool loaded;
} pa_local = { NULL, { 0 }, -1, false };


static int64_t pa_mono_s(void)
{
	struct timespec ts = { 0, 0 };

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* vDSO: no system call */
	return (int64_t)ts.tv_sec;
}

static bool pa_key_of(const char *path, struct pa_key *k)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return false;
	memset(k, 0, sizeof(*k));
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->size = st.st_size;
	k->mtime = st.st_mtim;
	k->ctime = st.st_ctim;
	k->uid = st.st_uid;
	k->mode = st.st_mode;
	return true;
}

static bool pa_key_eq(const struct pa_key *a, const struct pa_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec && a->uid == b->uid &&
	       a->mode == b->mode;
}

/* Drops one reference; under pa_view_lock. */
static void pa_secrets_put_locked(struct pa_secrets *ps)
{
	if (ps && --ps->refs == 0) {
		accord_secrets_close(ps->s);
		free(ps);
	}
}

static void pa_view_free(struct pa_view *v)
{
	pa_secrets_put_locked(v->sec);
	accord_trust_free(v->trust);
	if (v->snap_ok)
		accord_snapshot_unmap(&v->snap);
	explicit_bzero(v, sizeof(*v));
	free(v);
}

/* Drops one reference; under pa_view_lock. */
static void pa_view_put_locked(struct pa_view *v)
{
	if (--v->refs == 0)
		pa_view_free(v);
}

static void pa_view_put(struct pa_view *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&pa_view_lock);
	pa_view_put_locked(v);
	pthread_mutex_unlock(&pa_view_lock);
}

/* fork() while another thread held the lock: the child's copy is free. */
static void pa_atfork_child(void)
{
	pthread_mutex_init(&pa_view_lock, NULL);
}

__attribute__((constructor)) static void pa_load_module(void)
{
	(void)pthread_atfork(NULL, NULL, pa_atfork_child);
}

__attribute__((destructor)) static void pa_unload_module(void)
{
	pthread_mutex_lock(&pa_view_lock);
	if (pa_current)
		pa_view_put_locked(pa_current);
	pa_current = NULL;
	if (pa_loginuid_fd >= 0 && pa_loginuid_pid == getpid())
		close(pa_loginuid_fd);
	pa_loginuid_fd = -1;
	free(pa_local.text);
	pa_local.text = NULL;
	pa_local.loaded = false;
	pthread_mutex_unlock(&pa_view_lock);
}

/* Everything one call holds; released by pa_end() on every path. */
struct pa_call {
	pam_handle_t *pamh;
	enum pa_phase phase;
	struct pa_args args;
	struct pa_view *view;        /* a reference, or NULL */
	const struct accord_config *cfg; /* the view's, NULL before it loads */
	struct accord_snapshot snap; /* the view's mapping: never unmapped here */
	bool snap_mapped;
	struct pa_secrets *sec;      /* a reference, or NULL */
	struct accord_secrets *secrets; /* sec's store, or NULL */
	const char *job_user;        /* for the audit record */
	const char *service, *user, *rhost, *tty;
	char requester[256];
	char host[256];
	struct accord_logon_ctx ctx;
	struct accord_decision d;
	/* certificate logon: the audit record's cert_* fields */
	bool cert;
	char cert_check[32], cert_tier[16], cert_label[ACCORD_LABEL_MAX + 1];
	char cert_sha256[65], cert_serial[80], cert_subject[512], cert_issuer[512];
	char mapped_user[ACCORD_LABEL_MAX + 1];
};

/* ---- the one mapping of (phase, reason) to a PAM code -------------- */

static int pa_code(enum pa_phase phase, enum accord_reason r)
{
	if ((unsigned)r >= ACCORD_R_COUNT)
		r = ACCORD_R_INTERNAL_ERROR;
	if (r == ACCORD_R_OK)
		return PAM_SUCCESS;
	/* fail closed: a broken configuration, store or snapshot is an
	 * error the stack must not mistake for a plain "no" */
	if (r == ACCORD_R_INTERNAL_ERROR)
		return PAM_SYSTEM_ERR;
	switch (phase) {
	case PA_AUTH:
		/* unknown, revoked and wrong password alike: never tell */
		return PAM_AUTH_ERR;
	case PA_ACCOUNT:
		if (r == ACCORD_R_UNKNOWN_USER)
			return PAM_USER_UNKNOWN; /* user_unknown=ignore for local accounts */
		if (r == ACCORD_R_EXPIRED)
			return PAM_ACCT_EXPIRED;
		return PAM_PERM_DENIED;
	case PA_CHAUTHTOK:
		if (r == ACCORD_R_BAD_SECRET)
			return PAM_AUTH_ERR;
		if (r == ACCORD_R_PASSWORD_REJECTED)
			return PAM_AUTHTOK_ERR;
		if (r == ACCORD_R_UNKNOWN_USER)
			return PAM_USER_UNKNOWN;
		return PAM_PERM_DENIED;
	case PA_SESSION_OPEN:
	case PA_SESSION_CLOSE:
		/* audit only: not ours to refuse, not ours to accept */
		if (r == ACCORD_R_UNKNOWN_USER)
			return PAM_IGNORE;
		return PAM_SESSION_ERR;
	}
	return PAM_PERM_DENIED;
}

/* The reasons that must look exactly like a wrong password to whoever is
 * at the other end: same prompt, same answer, about the same time. */
static bool pa_hides_existence(enum accord_reason r)
{
	switch (r) {
	case ACCORD_R_UNKNOWN_USER:
	case ACCORD_R_REVOKED:
	case ACCORD_R_REVOKED_FAILURES:
	case ACCORD_R_REVOKED_INACTIVE:
	case ACCORD_R_EXPIRED:
		return true;
	default:
		return false;
	}
}

/* ---- arguments ------------------------------------------------------ */

static int pa_parse_methods(pam_handle_t *pamh, const char *list,
			    unsigned *out)
{
	const char *p = list;
	unsigned m = 0;

	if (!*list || strlen(list) > PA_METHODS_MAX) {
		pam_syslog(pamh, LOG_ERR, "methods= needs a list of up to %d characters",
			   PA_METHODS_MAX);
		return -EINVAL;
	}
	for (;;) {
		size_t n = strcspn(p, ",");

		if (n == strlen("password") && !strncmp(p, "password", n)) {
			m |= ACCORD_METHOD_PASSWORD;
		} else if (n == strlen("passticket") && !strncmp(p, "passticket", n)) {
			m |= ACCORD_METHOD_PASSTICKET;
		} else if (n == strlen("cert") && !strncmp(p, "cert", n)) {
			m |= ACCORD_METHOD_CERT;
		} else {
			pam_syslog(pamh, LOG_ERR,
				   "methods=: unknown logon method '%.*s' (known: password, "
				   "passticket, cert)", (int)n, p);
			return -EINVAL;
		}
		if (!p[n])
			break;
		p += n + 1;
	}
	*out = m;
	return 0;
}

/* cert_source=application,pkcs11,challenge */
static int pa_parse_sources(pam_handle_t *pamh, const char *list, unsigned *out)
{
	const char *p = list;
	unsigned m = 0;

	if (!*list || strlen(list) > PA_METHODS_MAX) {
		pam_syslog(pamh, LOG_ERR, "cert_source= needs a list of up to %d characters",
			   PA_METHODS_MAX);
		return -EINVAL;
	}
	for (;;) {
		size_t n = strcspn(p, ",");

		if (n == 11 && !strncmp(p, "application", n)) {
			m |= PA_CERT_APPLICATION;
		} else if (n == 6 && !strncmp(p, "pkcs11", n)) {
			m |= PA_CERT_PKCS11;
		} else if (n == 9 && !strncmp(p, "challenge", n)) {
			m |= PA_CERT_CHALLENGE;
		} else {
			pam_syslog(pamh, LOG_ERR, "cert_source=: unknown source '%.*s' (known: "
				   "application, pkcs11, challenge)", (int)n, p);
			return -EINVAL;
		}
		if (!p[n])
			break;
		p += n + 1;
	}
	*out = m;
	return 0;
}

/* Unknown arguments are refused, not ignored: a typo in a security
 * setting must not silently weaken the stack. */
static int pa_parse_args(pam_handle_t *pamh, int argc, const char **argv,
			 struct pa_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->methods = ACCORD_METHOD_PASSWORD;
	a->conf = ACCORD_CONF_PATH;
	/* a certificate an application passes in is never taken by default */
	a->cert_sources = PA_CERT_PKCS11 | PA_CERT_CHALLENGE;
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (!arg) {
			pam_syslog(pamh, LOG_ERR, "NULL module argument");
			return -EINVAL;
		}
		if (!strcmp(arg, "debug")) {
			a->debug = true;
		} else if (!strcmp(arg, "swap")) {
			a->swap = true;
		} else if (!strcmp(arg, "batch")) {
			a->batch = true;
		} else if (!strncmp(arg, "methods=", 8)) {
			if (pa_parse_methods(pamh, arg + 8, &a->methods) < 0)
				return -EINVAL;
		} else if (!strncmp(arg, "cert_source=", 12)) {
			if (pa_parse_sources(pamh, arg + 12, &a->cert_sources) < 0)
				return -EINVAL;
		} else if (!strncmp(arg, "pkcs11_module=", 14)) {
			if (arg[14] != '/') {
				pam_syslog(pamh, LOG_ERR, "pkcs11_module= needs an absolute path");
				return -EINVAL;
			}
			a->pkcs11_module = arg + 14;
		} else if (!strncmp(arg, "appl=", 5)) {
			if (!arg[5]) {
				pam_syslog(pamh, LOG_ERR, "appl= needs an application name");
				return -EINVAL;
			}
			a->appl = arg + 5;
		} else if (!strncmp(arg, "conf=", 5)) {
			if (arg[5] != '/') {
				pam_syslog(pamh, LOG_ERR, "conf= needs an absolute path");
				return -EINVAL;
			}
			a->conf = arg + 5;
		} else if (!strcmp(arg, "use_first_pass") || !strcmp(arg, "use_authtok") ||
			   !strncmp(arg, "authtok_type=", 13)) {
			/* read by libpam's pam_get_authtok() itself */
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown module argument '%s'", arg);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- the call's context --------------------------------------------- */

static const char *pa_item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;

	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || !v)
		return NULL;
	return v;
}

/* The uid in /proc/self/loginuid (the audit login uid: who logged in at
 * the entry point).  false when unset or unreadable. */
static bool pa_loginuid(uid_t *out)
{
	char buf[24];
	unsigned long v;
	char *end;
	ssize_t n;
	pid_t pid = getpid();
	int fd;

	/* One descriptor per process, read with pread() each time: the
	 * value is current (pam_loginuid may set it between two calls),
	 * and the path is walked once.  /proc/self is resolved at open,
	 * so a forked child opens its own. */
	pthread_mutex_lock(&pa_view_lock);
	if (pa_loginuid_fd >= 0 && pa_loginuid_pid != pid) {
		close(pa_loginuid_fd);
		pa_loginuid_fd = -1;
	}
	if (pa_loginuid_fd < 0) {
		pa_loginuid_fd = open("/proc/self/loginuid",
				      O_RDONLY | O_CLOEXEC | O_NOCTTY);
		pa_loginuid_pid = pid;
	}
	fd = pa_loginuid_fd;
	n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	pthread_mutex_unlock(&pa_view_lock);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v >= UINT32_MAX)
		return false; /* 4294967295: not set */
	*out = (uid_t)v;
	return true;
}

/* The job user: PAM_RUSER when the application set it, else the name of
 * the login uid.  NULL when neither is known. */
static const char *pa_requester(struct pa_call *c)
{
	const char *ruser = pa_item(c->pamh, PAM_RUSER);
	struct passwd *pw;
	uid_t uid;

	if (ruser && *ruser)
		return ruser;
	if (!pa_loginuid(&uid))
		return NULL;
	pw = pam_modutil_getpwuid(c->pamh, uid);
	if (!pw || !pw->pw_name || !*pw->pw_name ||
	    strlen(pw->pw_name) >= sizeof(c->requester))
		return NULL;
	memcpy(c->requester, pw->pw_name, strlen(pw->pw_name) + 1);
	return c->requester;
}

static void pa_set_reason(struct pa_call *c, enum accord_reason r,
			  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pa_set_reason(struct pa_call *c, enum accord_reason r,
			  const char *fmt, ...)
{
	va_list ap;

	c->d.reason = r;
	va_start(ap, fmt);
	vsnprintf(c->d.detail, sizeof(c->d.detail), fmt, ap);
	va_end(ap);
}

/*
 * A fresh view (one reference): loads accord.conf and maps the snapshot,
 * each with its trust checks.  NULL (with d.reason = INTERNAL_ERROR) when
 * the configuration fails; a snapshot that fails leaves snap_ok false
 * (and d.reason set): the view then serves only to audit the refusal.
 */
static struct pa_view *pa_view_new(struct pa_call *c, const struct pa_key *conf_key)
{
	struct accord_err err = { 0 };
	accord_snap_why why = NULL;
	struct pa_view *v = calloc(1, sizeof(*v));
	int r;

	if (!v) {
		pa_set_reason(c, ACCORD_R_INTERNAL_ERROR, "%s", "out of memory");
		return NULL;
	}
	snprintf(v->conf_path, sizeof(v->conf_path), "%s", c->args.conf);
	v->conf_key = *conf_key;
	accord_config_defaults(&v->cfg);
	r = accord_config_load(c->args.conf, false, &v->cfg, &err);
	if (r < 0) {
		pam_syslog(c->pamh, LOG_ERR, "%s",
			   err.msg[0] ? err.msg : "cannot load the configuration");
		pa_set_reason(c, ACCORD_R_INTERNAL_ERROR, "configuration: %s", err.msg);
		free(v);
		return NULL;
	}
	/* the key is taken before the map: a file replaced in between is
	 * seen as changed by the next call, never the other way round */
	if (!pa_key_of(v->cfg.snapshot, &v->snap_key))
		memset(&v->snap_key, 0, sizeof(v->snap_key));
	r = accord_snapshot_map_file(v->cfg.snapshot, ACCORD_SNAP_TRUSTED_OWNER,
				     &v->snap, &why);
	if (r < 0) {
		pam_syslog(c->pamh, LOG_ERR, "snapshot %s: %s", v->cfg.snapshot,
			   why ? why : strerror(-r));
		pa_set_reason(c, ACCORD_R_INTERNAL_ERROR, "snapshot: %s",
			      why ? why : strerror(-r));
	} else {
		v->snap_ok = true;
	}
	if (gethostname(v->host, sizeof(v->host) - 1) < 0)
		v->host[0] = '\0';
	v->refs = 1;
	return v;
}

/*
 * Takes a reference on the view's secrets store for this call: the kept
 * one while it is less than a second old, else a newly opened one (which
 * is kept instead).  On failure c->secrets stays NULL (logged) and the
 * library answers internal_error where it needs the store.
 */
static void pa_get_secrets(struct pa_call *c)
{
	struct pa_view *v = c->view;
	struct pa_secrets *ps;
	struct accord_err err = { 0 };
	int64_t now = pa_mono_s();
	int r;

	pthread_mutex_lock(&pa_view_lock);
	ps = v->sec;
	if (ps && now - ps->opened < 1) {
		ps->refs++;
		pthread_mutex_unlock(&pa_view_lock);
		c->sec = ps;
		c->secrets = ps->s;
		return;
	}
	pthread_mutex_unlock(&pa_view_lock);

	/* opened outside the lock: on a network file system it may block */
	ps = NULL;
	if (!v->cfg.registry[0]) {
		pam_syslog(c->pamh, LOG_ERR, "%s names no registry: no secrets store",
			   v->conf_path);
	} else if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		pam_syslog(c->pamh, LOG_ERR, "secrets store: out of memory");
	} else {
		r = accord_secrets_open(v->cfg.registry, false, &ps->s, &err);
		if (r < 0) {
			pam_syslog(c->pamh, LOG_ERR, "secrets store: %s",
				   err.msg[0] ? err.msg : strerror(-r));
			free(ps);
			ps = NULL;
		} else {
			ps->opened = now;
			ps->refs = 2; /* kept, and this call's */
		}
	}
	pthread_mutex_lock(&pa_view_lock);
	/* a store that no longer opens is not used again, even if an
	 * older handle still works: its checks may be what failed */
	pa_secrets_put_locked(v->sec);
	v->sec = ps;
	pthread_mutex_unlock(&pa_view_lock);
	c->sec = ps;
	c->secrets = ps ? ps->s : NULL;
}

/*
 * Takes a reference on a current view: the kept one when accord.conf and
 * the snapshot are unchanged, else a new one (which becomes the kept
 * one).  false (d.reason set) when no view can be had.
 */
static bool pa_load(struct pa_call *c)
{
	struct pa_key ck, sk;
	struct pa_view *v, *fresh = NULL;
	int64_t now = pa_mono_s();
	bool same = false;

	pthread_mutex_lock(&pa_view_lock);
	v = pa_current;
	if (v && !strcmp(v->conf_path, c->args.conf)) {
		if (v->checked_at == now) {
			same = true; /* both files were found unchanged this second */
		} else if (pa_key_of(c->args.conf, &ck) && pa_key_eq(&v->conf_key, &ck) &&
			   pa_key_of(v->cfg.snapshot, &sk) && pa_key_eq(&v->snap_key, &sk)) {
			v->checked_at = now;
			same = true;
		}
	}
	if (same) {
		v->refs++;
	} else {
		/* built outside the lock: it reads files */
		pthread_mutex_unlock(&pa_view_lock);
		if (!pa_key_of(c->args.conf, &ck))
			memset(&ck, 0, sizeof(ck)); /* the load below says why */
		fresh = pa_view_new(c, &ck);
		if (!fresh)
			return false;
		if (!fresh->snap_ok) {
			/* never kept: this call audits its refusal with it */
			c->view = fresh;
			c->cfg = &fresh->cfg;
			memcpy(c->host, fresh->host, sizeof(c->host));
			return false;
		}
		pthread_mutex_lock(&pa_view_lock);
		if (pa_current)
			pa_view_put_locked(pa_current);
		pa_current = fresh;
		v = fresh;
		v->refs++;          /* the kept reference and this call's */
		v->checked_at = now;
	}
	c->view = v;
	pthread_mutex_unlock(&pa_view_lock);
	c->cfg = &v->cfg;
	c->snap = v->snap;
	c->snap_mapped = true;
	memcpy(c->host, v->host, sizeof(c->host));
	return true;
}

/*
 * /etc/passwd as last read, to tell whether a name is a local account.
 * Read again when its lstat() key changes, checked at most once a second.
 * Under pa_view_lock.
 */
#define PA_LOCAL_PASSWD "/etc/passwd"
#define PA_LOCAL_MAX (16u << 20)


static void pa_local_refresh_locked(int64_t now)
{
	struct pa_key k;
	struct stat st;
	char *text = NULL;
	ssize_t n;
	size_t got = 0;
	int fd;

	if (pa_local.checked_at == now)
		return;
	pa_local.checked_at = now;
	if (!pa_key_of(PA_LOCAL_PASSWD, &k)) {
		memset(&k, 0, sizeof(k));
	} else if (pa_local.loaded && pa_key_eq(&k, &pa_local.key)) {
		return;
	}
	fd = open(PA_LOCAL_PASSWD, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size < PA_LOCAL_MAX && (text = malloc((size_t)st.st_size + 1))) {
		while (got < (size_t)st.st_size &&
		       (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
			got += (size_t)n;
		text[got] = '\0';
	}
	if (fd >= 0)
		close(fd);
	free(pa_local.text);
	pa_local.text = text;
	pa_local.key = k;
	pa_local.loaded = true;
}

/* The UID of a local account of this name in /etc/passwd; false if none. */
static bool pa_local_uid(const char *name, uid_t *uid)
{
	size_t len = strlen(name);
	bool found = false;
	const char *p;

	pthread_mutex_lock(&pa_view_lock);
	pa_local_refresh_locked(pa_mono_s());
	for (p = pa_local.text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *f;
		char *end;
		unsigned long v;

		if (strncmp(p, name, len) || p[len] != ':')
			continue;
		f = strchr(p + len + 1, ':'); /* past the password field */
		if (!f)
			break;
		errno = 0;
		v = strtoul(f + 1, &end, 10);
		if (!errno && end != f + 1 && *end == ':' && v < UINT32_MAX) {
			*uid = (uid_t)v;
			found = true;
		}
		break;
	}
	pthread_mutex_unlock(&pa_view_lock);
	return found;
}

/*
 * Whether the name is an accord profile that is not shadowed by a local
 * account, and if so the secrets store for it.  A name that /etc/passwd
 * gives another UID is a local account of the same name, and "files"
 * comes before accord in nsswitch.conf: the session would run as the
 * local account, so accord does not decide for it.  It is answered as an
 * unknown user (the stack's pam_unix decides), and logged.  (Sources
 * listed before accord other than files are not consulted: the call
 * stays cheap; conf/nsswitch.conf.snippet puts accord right after files.)
 */
static void pa_own_profile(struct pa_call *c)
{
	struct accord_snap_user u;
	uid_t local;
	int r;

	r = accord_snap_user_by_name(&c->snap, c->user, &u);
	if (r == -ENOENT)
		return; /* not ours: no need for the store (a local account) */
	if (r == 0 && pa_local_uid(c->user, &local) && local != u.uid) {
		pam_syslog(c->pamh, LOG_WARNING,
			   "%s is a local account (uid %u in " PA_LOCAL_PASSWD "), not the "
			   "accord profile (uid %u): not decided by accord",
			   c->user, (unsigned)local, (unsigned)u.uid);
		pa_set_reason(c, ACCORD_R_UNKNOWN_USER,
			      "a local account of this name has uid %u, accord's has uid %u",
			      (unsigned)local, (unsigned)u.uid);
		return;
	}
	pa_get_secrets(c);
}

/*
 * Arguments, items and the loaded state of one call.  Returns PAM_SUCCESS
 * to go on (c->ctx is ready when d.reason is still OK), or a PAM code to
 * return at once (bad arguments, an unfinished conversation).
 */
static int pa_begin(struct pa_call *c, pam_handle_t *pamh, enum pa_phase phase,
		    int argc, const char **argv)
{
	const char *user = NULL;
	int r;

	c->pamh = pamh;
	c->phase = phase;
	c->d.reason = ACCORD_R_OK;
	c->d.failures = -1;
	c->ctx.now = (int64_t)time(NULL);
	if (pa_parse_args(pamh, argc, argv, &c->args) < 0)
		return PAM_SERVICE_ERR;
	c->service = pa_item(pamh, PAM_SERVICE);
	c->rhost = pa_item(pamh, PAM_RHOST);
	c->tty = pa_item(pamh, PAM_TTY);

	c->cert = phase == PA_AUTH && (c->args.methods & ACCORD_METHOD_CERT);
	if (c->cert) {
		/* a certificate names its user: no prompt for one.  A name
		 * the application gave must match the mapping. */
		user = pa_item(pamh, PAM_USER);
		r = PAM_SUCCESS;
	} else {
		r = pam_get_user(pamh, &user, NULL);
	}
	if (r == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	if (r == PAM_SUCCESS && user && *user)
		c->user = user;

	c->ctx.snap = &c->snap;
	c->ctx.user = c->user ? c->user : "";
	c->ctx.appl = c->args.appl ? c->args.appl : c->service;
	c->ctx.swap = c->args.swap;
	c->ctx.batch = c->args.batch;
	/* Who logged in.  In a swap stack (su, sudo) the requester: PAM_RUSER,
	 * else the login uid.  Elsewhere (sshd, login) the login uid is the
	 * daemon's, not the user's: PAM_RUSER if the application set it,
	 * else the user logging in. */
	if (c->args.swap) {
		c->ctx.requester = pa_requester(c);
		c->job_user = c->ctx.requester;
	} else {
		c->job_user = pa_item(pamh, PAM_RUSER);
		if (!c->job_user || !*c->job_user)
			c->job_user = c->user;
	}

	if (!c->service || !*c->service) {
		pa_set_reason(c, ACCORD_R_INTERNAL_ERROR, "%s", "no PAM_SERVICE");
		return PAM_SUCCESS;
	}
	if (!c->user && !c->cert) {
		/* nobody to decide on: the answer an unknown name gets */
		pa_set_reason(c, ACCORD_R_UNKNOWN_USER, "%s", "no user name");
		return PAM_SUCCESS;
	}
	if (!pa_load(c)) {
		if (!c->view && gethostname(c->host, sizeof(c->host) - 1) < 0)
			c->host[0] = '\0';
		return PAM_SUCCESS;
	}
	c->ctx.cfg = c->cfg;
	if (c->user) {
		pa_own_profile(c);
		c->ctx.secrets = c->secrets;
	}
	return PAM_SUCCESS;
}

static void pa_end(struct pa_call *c)
{
	/* the mapping and the store belong to the view */
	c->secrets = NULL;
	c->snap_mapped = false;
	if (c->sec) {
		pthread_mutex_lock(&pa_view_lock);
		pa_secrets_put_locked(c->sec);
		pthread_mutex_unlock(&pa_view_lock);
		c->sec = NULL;
	}
	pa_view_put(c->view);
	c->view = NULL;
}

/* ---- audit ---------------------------------------------------------- */

static void pa_audit(struct pa_call *c, const char *method)
{
	struct accord_audit_rec rec;
	struct accord_err err = { 0 };
	const char *reason = accord_reason_name(c->d.reason);
	bool ok = c->d.reason == ACCORD_R_OK;
	char line[PA_AUDIT_LINE];

	memset(&rec, 0, sizeof(rec));
	rec.time = c->ctx.now;
	rec.host = c->host;
	rec.service = c->service ? c->service : "";
	rec.appl = c->ctx.appl ? c->ctx.appl : "";
	rec.phase = pa_phase_names[c->phase];
	rec.method = method;
	rec.result = ok ? "success" : "failure";
	rec.reason = reason ? reason : "internal_error";
	rec.user = c->user ? c->user : "";
	rec.job_user = c->job_user ? c->job_user : "";
	rec.current_user = rec.user; /* the work runs as the PAM user */
	rec.rhost = c->rhost ? c->rhost : "";
	rec.tty = c->tty ? c->tty : "";
	c->d.granting[sizeof(c->d.granting) - 1] = '\0';
	rec.granting = c->d.granting;
	rec.generation = c->snap_mapped ? c->snap.generation : 0;
	rec.failures = c->d.failures;
	if (c->cert && (c->cert_sha256[0] || c->cert_check[0])) {
		rec.cert_check = c->cert_check;
		rec.cert_tier = c->cert_tier;
		rec.cert_label = c->cert_label;
		rec.cert_sha256 = c->cert_sha256;
		rec.cert_serial = c->cert_serial;
		rec.cert_subject = c->cert_subject;
		rec.cert_issuer = c->cert_issuer;
	}

	line[0] = '\0';
	accord_audit_kv(&rec, line, sizeof(line));
	pam_syslog(c->pamh, ok ? LOG_INFO : LOG_NOTICE, "%s", line);
	c->d.detail[sizeof(c->d.detail) - 1] = '\0';
	if (c->args.debug && c->d.detail[0])
		pam_syslog(c->pamh, LOG_DEBUG, "%s: %s", rec.phase, c->d.detail);
	if (c->cfg && c->cfg->audit_file[0] &&
	    accord_audit_append(c->cfg->audit_file, &rec, &err) < 0)
		pam_syslog(c->pamh, LOG_ERR, "audit file %s: %s", c->cfg->audit_file,
			   err.msg[0] ? err.msg : strerror(-err.code));
}

/* The audit record's method of an auth decision: what the decision says
 * (d.method), else the stack's only method, else password. */
static const char *pa_method(const struct pa_call *c)
{
	unsigned m = c->d.method;

	if (m == ACCORD_METHOD_CERT)
		return "cert";
	if (!m)
		m = (c->args.methods & ACCORD_METHOD_PASSTICKET) &&
				    !(c->args.methods & ACCORD_METHOD_PASSWORD)
			    ? ACCORD_METHOD_PASSTICKET
			    : ACCORD_METHOD_PASSWORD;
	return m == ACCORD_METHOD_PASSTICKET ? "passticket" : "password";
}

/* Records the decision, releases the call, returns the PAM code. */
static int pa_finish(struct pa_call *c, const char *method)
{
	int code;

	pa_audit(c, method);
	code = pa_code(c->phase, c->d.reason);
	pa_end(c);
	return code;
}

static struct pa_call *pa_new(void)
{
	return calloc(1, sizeof(struct pa_call));
}

/* ---- certificate logon ------------------------------------------------ */

/*
 * The view's certificate section and trust set, built at the first
 * certificate logon of this view (parsing the CAs is the expensive part)
 * and kept with it.  false (d.reason INTERNAL_ERROR) when either fails.
 */
static bool pa_view_certs(struct pa_call *c)
{
	struct pa_view *v = c->view;
	struct accord_certdb db;
	struct accord_trust *t = NULL;
	struct accord_err err = { 0 };
	const void *blob;
	size_t len;
	int r;

	pthread_mutex_lock(&pa_view_lock);
	if (!v->certs_built) {
		/* built under the lock: rare (once per snapshot generation),
		 * and it reads only the mapping, no file */
		accord_snap_certdb(&v->snap, &blob, &len);
		r = accord_certdb_open(blob, len, &db, &err);
		if (r == 0)
			r = accord_certdb_trust(&db, &t, &err);
		v->certs_err = r;
		snprintf(v->certs_msg, sizeof(v->certs_msg), "%s", err.msg);
		if (r == 0) {
			v->certdb = db;
			v->trust = t;
		}
		v->certs_built = true;
	}
	r = v->certs_err;
	pthread_mutex_unlock(&pa_view_lock);
	if (r < 0) {
		pam_syslog(c->pamh, LOG_ERR, "certificate maps and CAs: %s", v->certs_msg);
		pa_set_reason(c, ACCORD_R_INTERNAL_ERROR, "certificate section: %s", v->certs_msg);
		return false;
	}
	return true;
}

static void pa_cert_fields(struct pa_call *c, const struct accord_certnames *n)
{
	int i;

	for (i = 0; i < 32; i++)
		snprintf(c->cert_sha256 + 2 * i, 3, "%02x", n->sha256[i]);
	snprintf(c->cert_serial, sizeof(c->cert_serial), "%s", n->serial);
	if (accord_dn_format(n->subject, ACCORD_DN_STYLE_RFC4514, c->cert_subject,
			     sizeof(c->cert_subject)) < 0)
		snprintf(c->cert_subject, sizeof(c->cert_subject), "(longer than %zu bytes)",
			 sizeof(c->cert_subject));
	if (accord_dn_format(n->issuer, ACCORD_DN_STYLE_RFC4514, c->cert_issuer,
			     sizeof(c->cert_issuer)) < 0)
		snprintf(c->cert_issuer, sizeof(c->cert_issuer), "(longer than %zu bytes)",
			 sizeof(c->cert_issuer));
	snprintf(c->cert_tier, sizeof(c->cert_tier), "none");
}

/*
 * methods=cert: a certificate with proof of possession, its chain, its
 * mapping, then the mapped profile's status.  Returns true when it
 * decided (c->d.reason), false when no source offered a certificate (the
 * stack's other methods may go on).
 */
static bool pa_cert_auth(struct pa_call *c)
{
	struct pa_cert_args a = { 0 };
	struct pa_cert_result res = { 0 };
	struct accord_cert_policy pol;
	struct accord_cert_verdict verdict = { 0 };
	struct accord_certnames names = { 0 };
	struct accord_certmap_ctx mctx = { 0 };
	struct accord_map_outcome out;
	struct accord_err err = { 0 };
	char shorthost[256];
	const char *why = NULL;
	int pr;

	c->d.method = ACCORD_METHOD_CERT;
	if (c->d.reason != ACCORD_R_OK)
		return true; /* no view: refused, audited */
	a.sources = c->args.cert_sources;
	a.pkcs11_module = c->args.pkcs11_module;
	a.host = c->host;
	a.service = c->service;
	a.now = c->ctx.now;
	a.max_age = c->cfg->challenge_max_age;
	a.debug = c->args.debug;
	pr = pa_cert_obtain(c->pamh, &a, &res, &why);
	/* a certificate an application passed is used once: it must not
	 * reach the session's environment */
	if (a.sources & PA_CERT_APPLICATION) {
		(void)pam_putenv(c->pamh, "ACCORD_CERT");
		(void)pam_putenv(c->pamh, "ACCORD_CERT_CHAIN");
	}
	if (pr == PAM_AUTHINFO_UNAVAIL || pr == PAM_CONV_ERR) {
		/* nothing offered, or a conversation that cannot carry the
		 * challenge (sshd's password conversation): the stack's other
		 * methods may go on */
		pa_set_reason(c, ACCORD_R_NO_CERT, "no certificate: %s", why ? why : "none offered");
		snprintf(c->cert_check, sizeof(c->cert_check), "%s", why ? why : "no_certificate");
		return false;
	}
	if (pr != PAM_SUCCESS) {
		pa_set_reason(c, pr == PAM_AUTH_ERR ? ACCORD_R_CERT_POP : ACCORD_R_INTERNAL_ERROR,
			      "certificate: %s (%s)", why ? why : "refused", res.detail);
		/* the audit record says how the proof failed */
		snprintf(c->cert_check, sizeof(c->cert_check), "%s", why ? why : "refused");
		goto out;
	}
	if (!pa_view_certs(c))
		goto out;
	if (accord_certnames_from_x509(res.cert, &names, &err) < 0) {
		pa_set_reason(c, ACCORD_R_CERT_INVALID, "certificate names: %s", err.msg);
		goto out;
	}
	pa_cert_fields(c, &names);
	accord_cert_policy_from_config(c->cfg, &pol);
	pol.now = c->ctx.now;
	if (accord_trust_verify(c->view->trust, res.cert, res.chain, &pol, &verdict) < 0) {
		pa_set_reason(c, ACCORD_R_INTERNAL_ERROR, "%s", "chain verification failed");
		goto out;
	}
	snprintf(c->cert_check, sizeof(c->cert_check), "%s",
		 accord_cert_reason_name(verdict.reason));
	if (verdict.reason != ACCORD_CERT_OK) {
		pa_set_reason(c, ACCORD_R_CERT_INVALID, "chain refused: %s", verdict.detail);
		goto out;
	}
	/* mapping: RACF's search order over the snapshot's maps */
	snprintf(shorthost, sizeof(shorthost), "%s", c->host);
	shorthost[strcspn(shorthost, ".")] = '\0';
	mctx.service = c->service;
	mctx.host = shorthost;
	mctx.rhost = c->rhost;
	mctx.tty = c->tty;
	mctx.mode = c->cfg->match ? ACCORD_MATCH_EXACT : ACCORD_MATCH_LDAP;
	if (accord_certmap_resolve(&c->view->certdb, &names, &mctx, NULL, NULL, &out) < 0) {
		pa_set_reason(c, ACCORD_R_INTERNAL_ERROR, "%s", "the certificate section is damaged");
		goto out;
	}
	snprintf(c->cert_tier, sizeof(c->cert_tier), "%s",
		 out.tier == 1 ? "registered" : out.tier == 2 ? "filter" : "none");
	snprintf(c->cert_label, sizeof(c->cert_label), "%s", out.label);
	if (out.result == ACCORD_MAP_DENIED) {
		pa_set_reason(c, ACCORD_R_CERT_NOTRUST, "map %s of %s is NOTRUST", out.label,
			      out.owner);
		goto out;
	}
	if (out.result != ACCORD_MAPPED) {
		pa_set_reason(c, ACCORD_R_CERT_UNMAPPED, "%s after %d probes%s%s",
			      accord_map_result_name(out.result), out.probes,
			      out.criteria[0] ? ", criteria " : "", out.criteria);
		goto out;
	}
	if (c->user && strcmp(c->user, out.user)) {
		pa_set_reason(c, ACCORD_R_CERT_MISMATCH, "maps to %s (map %s), not to the user "
			      "given", out.user, out.label);
		goto out;
	}
	if (!c->user) {
		snprintf(c->mapped_user, sizeof(c->mapped_user), "%s", out.user);
		if (pam_set_item(c->pamh, PAM_USER, c->mapped_user) != PAM_SUCCESS) {
			pa_set_reason(c, ACCORD_R_INTERNAL_ERROR, "%s", "cannot set PAM_USER");
			goto out;
		}
		c->user = c->mapped_user;
		c->ctx.user = c->user;
		if (!c->job_user)
			c->job_user = c->user;
	}
	if (!c->sec) /* a user given up front was looked at by pa_begin() */
		pa_own_profile(c);
	c->ctx.secrets = c->secrets;
	if (c->d.reason == ACCORD_R_OK)
		c->d.reason = accord_decide_cert(&c->ctx, &c->d);
	c->d.method = ACCORD_METHOD_CERT;
out:
	accord_certnames_clear(&names);
	pa_cert_result_clear(&res);
	return true;
}

/* ---- the entry points ----------------------------------------------- */

PA_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
				  const char **argv)
{
	struct pa_call *c = pa_new();
	const char *pw = NULL;
	enum accord_reason r;
	int code, pr;

	(void)flags;
	if (!c)
		return PAM_BUF_ERR;
	code = pa_begin(c, pamh, PA_AUTH, argc, argv);
	if (code != PAM_SUCCESS)
		goto out;

	if (c->cert) {
		if (pa_cert_auth(c) ||
		    !(c->args.methods & (ACCORD_METHOD_PASSWORD | ACCORD_METHOD_PASSTICKET))) {
			code = pa_finish(c, "cert");
			goto out;
		}
		/* no certificate offered: the stack's secrets, as without cert */
		c->cert = false;
		c->d.reason = ACCORD_R_OK;
		c->d.method = 0;
		if (!c->user) {
			const char *user = NULL;

			pr = pam_get_user(pamh, &user, NULL);
			if (pr == PAM_CONV_AGAIN) {
				code = PAM_INCOMPLETE;
				goto out;
			}
			if (pr != PAM_SUCCESS || !user || !*user) {
				pa_set_reason(c, ACCORD_R_UNKNOWN_USER, "%s", "no user name");
			} else {
				c->user = user;
				c->ctx.user = user;
				if (!c->job_user)
					c->job_user = user;
			}
		}
		if (c->user && c->view && c->snap_mapped && !c->sec) {
			pa_own_profile(c);
			c->ctx.secrets = c->secrets;
		}
	}

	r = c->d.reason;
	if (r == ACCORD_R_OK) {
		if (c->args.methods & (ACCORD_METHOD_PASSWORD | ACCORD_METHOD_PASSTICKET)) {
			r = accord_decide_auth_pre(&c->ctx, c->args.methods, &c->d);
		} else {
			r = ACCORD_R_METHOD_REFUSED;
			snprintf(c->d.detail, sizeof(c->d.detail),
				 "no method of this stack can authenticate here");
		}
	}
	if (r == ACCORD_R_OK) {
		/* the same prompt for a password and a PassTicket: the typed
		 * secret is tried as what the stack's methods allow */
		pr = pam_get_authtok(pamh, PAM_AUTHTOK, &pw, PA_PROMPT_PASSWORD);
		if (pr == PAM_CONV_AGAIN) {
			code = PAM_INCOMPLETE;
			goto out;
		}
		if (pr != PAM_SUCCESS || !pw) {
			r = ACCORD_R_BAD_SECRET;
			snprintf(c->d.detail, sizeof(c->d.detail),
				 "no password given: %s", pam_strerror(pamh, pr));
		} else {
			r = accord_decide_secret(&c->ctx, c->args.methods, pw, &c->d);
		}
	} else if (pa_hides_existence(r)) {
		/* Ask as for anyone else and spend one hash on the answer, so
		 * that neither the conversation nor the time tells an unknown
		 * or revoked profile from a wrong password. */
		pr = pam_get_authtok(pamh, PAM_AUTHTOK, &pw, PA_PROMPT_PASSWORD);
		if (pr == PAM_CONV_AGAIN) {
			code = PAM_INCOMPLETE;
			goto out;
		}
		accord_secret_dummy_verify(pr == PAM_SUCCESS && pw ? pw : "");
	} else {
		/* refused before any prompt (disabled, protected, no
		 * password, no usable method, internal error): still about
		 * one hash */
		accord_secret_dummy_verify("");
	}
	c->d.reason = r;
	code = pa_finish(c, pa_method(c));
out:
	pa_end(c);
	free(c);
	return code;
}

PA_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
			     const char **argv)
{
	struct pa_args a;

	(void)flags;
	if (pa_parse_args(pamh, argc, argv, &a) < 0)
		return PAM_SERVICE_ERR;
	return PAM_SUCCESS;
}

PA_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
			       const char **argv)
{
	struct pa_call *c = pa_new();
	int code;

	(void)flags;
	if (!c)
		return PAM_BUF_ERR;
	code = pa_begin(c, pamh, PA_ACCOUNT, argc, argv);
	if (code != PAM_SUCCESS)
		goto out;
	if (c->d.reason == ACCORD_R_OK)
		c->d.reason = accord_decide_account(&c->ctx, &c->d);
	code = pa_finish(c, "");
out:
	pa_end(c);
	free(c);
	return code;
}

PA_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
			       const char **argv)
{
	struct pa_call *c = pa_new();
	const char *old = NULL, *new_pw = NULL;
	enum accord_reason r;
	int code, pr;

	if (!c)
		return PAM_BUF_ERR;
	code = pa_begin(c, pamh, PA_CHAUTHTOK, argc, argv);
	if (code != PAM_SUCCESS)
		goto out;

	r = c->d.reason;
	/* Both passes start with the status check, so that an unknown or
	 * refused profile is answered before anything is asked. */
	if (r == ACCORD_R_OK)
		r = accord_decide_auth_pre(&c->ctx, ACCORD_METHOD_PASSWORD, &c->d);
	if (flags & PAM_PRELIM_CHECK) {
		if (r == ACCORD_R_OK) {
			/* nothing decided yet: the update pass is recorded */
			code = PAM_SUCCESS;
			goto out;
		}
		goto decided;
	}
	if (!(flags & PAM_UPDATE_AUTHTOK) && r == ACCORD_R_OK) {
		r = ACCORD_R_INTERNAL_ERROR;
		snprintf(c->d.detail, sizeof(c->d.detail),
			 "neither PAM_PRELIM_CHECK nor PAM_UPDATE_AUTHTOK");
	}
	if (r != ACCORD_R_OK)
		goto decided;

	/* root (the real uid: passwd is setuid root) sets it without the
	 * old one, as pam_unix does -- but not when the application changes
	 * an expired password at logon (sshd, login: their real uid is 0
	 * too, and the user at the other end must prove the old one) */
	if (getuid() != 0 || (flags & PAM_CHANGE_EXPIRED_AUTHTOK)) {
		pr = pam_get_authtok(pamh, PAM_OLDAUTHTOK, &old, PA_PROMPT_OLD);
		if (pr == PAM_CONV_AGAIN) {
			code = PAM_INCOMPLETE;
			goto out;
		}
		if (pr != PAM_SUCCESS || !old) {
			r = ACCORD_R_BAD_SECRET;
			snprintf(c->d.detail, sizeof(c->d.detail),
				 "no current password given: %s", pam_strerror(pamh, pr));
			goto decided;
		}
	}
	/* libpam asks twice ("New password: ", "Retype new password: ") */
	pr = pam_get_authtok(pamh, PAM_AUTHTOK, &new_pw, NULL);
	if (pr == PAM_CONV_AGAIN) {
		code = PAM_INCOMPLETE;
		goto out;
	}
	if (pr != PAM_SUCCESS || !new_pw) {
		r = ACCORD_R_PASSWORD_REJECTED;
		snprintf(c->d.detail, sizeof(c->d.detail),
			 "no new password: %s", pam_strerror(pamh, pr));
		goto decided;
	}
	r = accord_decide_chauthtok(&c->ctx, old, new_pw, &c->d);
decided:
	c->d.reason = r;
	code = pa_finish(c, "password");
out:
	pa_end(c);
	free(c);
	return code;
}

/* Sessions are audited, never refused: known profiles get PAM_SUCCESS,
 * others PAM_IGNORE. */
static int pa_session(pam_handle_t *pamh, enum pa_phase phase, int argc,
		      const char **argv)
{
	struct pa_call *c = pa_new();
	struct accord_snap_user u;
	int code, r;

	if (!c)
		return PAM_BUF_ERR;
	code = pa_begin(c, pamh, phase, argc, argv);
	if (code != PAM_SUCCESS)
		goto out;
	if (c->d.reason == ACCORD_R_OK) {
		r = accord_snap_user_by_name(&c->snap, c->user, &u);
		if (r == -ENOENT) {
			c->d.reason = ACCORD_R_UNKNOWN_USER;
		} else if (r < 0) {
			c->d.reason = ACCORD_R_INTERNAL_ERROR;
			snprintf(c->d.detail, sizeof(c->d.detail),
				 "snapshot record of the user: %s", strerror(-r));
		}
	}
	/* not one of ours: nothing to record */
	if (c->d.reason == ACCORD_R_UNKNOWN_USER) {
		code = pa_code(phase, c->d.reason);
		goto out;
	}
	code = pa_finish(c, "");
out:
	pa_end(c);
	free(c);
	return code;
}

PA_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
				  const char **argv)
{
	(void)flags;
	return pa_session(pamh, PA_SESSION_OPEN, argc, argv);
}

PA_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
				   const char **argv)
{
	(void)flags;
	return pa_session(pamh, PA_SESSION_CLOSE, argc, argv);
}
