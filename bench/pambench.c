/* SPDX-License-Identifier: MIT */
/*
 * pambench: the cost of one account phase (profile status + application
 * access) of pam_accord.so, through real libpam in-process, beside
 * pam_access.so over an equivalent rule file, in the same run.
 *
 * usage: pambench DIR PAM_ACCORD_SO PAM_ACCESS_SO [USERS [APPLS [CALLS]]]
 *
 * It builds in DIR (which must exist and be empty) a snapshot of USERS
 * users (default 100,000; each with a personal group and 3 of 1,000
 * shared groups) and APPLS applications (default 10,000; each permits 5
 * shared groups and 1 user, uacc none), an accord.conf and a secrets
 * store, then:
 *
 *   - SERVICES service files "accord-K" (account required pam_accord.so
 *     appl=appK) and "access-K" (account required pam_access.so
 *     accessfile=DIR/access/appK.conf, which holds "+:(g1) (g2) ... user:ALL"
 *     and "-:ALL:ALL": the same grants, in pam_access's words);
 *   - CALLS rounds of: a random user, a random service, a fresh handle
 *     for each module (pam_start_confdir, not timed: pam_access's
 *     pam_modutil_getpwnam() stores a data item per call on the handle
 *     and searches them linearly, so a long-lived handle grows quadratic),
 *     time
 *     pam_acct_mgmt() of each module for that same (user, application)
 *     ("via=libpam": what an application pays, libpam's own dispatch and
 *     kernel audit record included), and pam_accord's pam_sm_acct_mgmt()
 *     called directly on the same handle with the same arguments
 *     ("via=direct": the module's own cost).  Each of these runs just after
 *     the other module's call, with cold caches, as in a fresh sshd.
 *   - then, 10 x CALLS more rounds on one long-lived handle per service,
 *     pam_set_item(PAM_USER) and pam_acct_mgmt() of pam_accord only
 *     ("via=libpam-warm": a process that decides many logons, caches
 *     warm), each followed by the direct call ("via=direct-warm").  pam_access has no such line: on a long-lived handle it slows
 *     down with every call (the pam_modutil data items above).  pam_access cannot be called
 *     that way: pam_modutil_getpwnam() needs pam_set_data(), which libpam
 *     refuses to an application, and then loops up to INT_MAX.
 *
 * Every pair is decided by both modules: disagreements are counted and
 * must be 0 (the benchmark checks the answers, not only the clock).
 * pam_access resolves users and groups through NSS: run it with our NSS
 * module over DIR/snapshot in nsswitch.conf (bench/run.sh does, in a
 * private mount namespace), so both modules read the same identities.
 *
 * Output: "PAM module=... via=... users=... appls=... calls=... p50_us=... p90_us=...
 * p99_us=... mean_us=... allowed=... denied=... errors=..." per module and
 * "PAM disagreements=N".
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <accord/logon.h>
#include <accord/state.h>

#define SHARED_GROUPS 1000u
#define GROUPS_PER_USER 3u
#define GROUPS_PER_APPL 5u
#define SERVICES 64u

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void die(const char *what, const struct accord_err *e)
{
	fprintf(stderr, "pambench: %s: %s\n", what, e ? e->msg : strerror(errno));
	exit(1);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) != 0)
		die(path, NULL);
}

static int no_conv(int n, const struct pam_message **msg,
		   struct pam_response **resp, void *data)
{
	(void)n; (void)msg; (void)resp; (void)data;
	return PAM_CONV_ERR; /* the account phase never asks */
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

struct stats {
	double *t;
	unsigned n, allowed, denied, errors;
};

typedef int (*sm_fn)(pam_handle_t *, int, int, const char **);

/* The modules stay loaded for the life of the process (so that libpam's
 * pam_end() does not unload them between handles). */
static void *dl_handles[2];

static sm_fn sm_acct(const char *so)
{
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	sm_fn f;

	dl_handles[dl_handles[0] ? 1 : 0] = h;
	if (!h) {
		fprintf(stderr, "pambench: %s\n", dlerror());
		exit(1);
	}
	*(void **)&f = dlsym(h, "pam_sm_acct_mgmt");
	if (!f) {
		fprintf(stderr, "pambench: %s: no pam_sm_acct_mgmt\n", so);
		exit(1);
	}
	return f;
}

/* A count argument of at least min, or exit 2. */
static uint32_t count_arg(const char *s, const char *what, uint32_t min)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > 10000000) {
		fprintf(stderr, "pambench: %s must be a number from %" PRIu32 " to 10000000\n",
			what, min);
		exit(2);
	}
	return (uint32_t)v;
}

static void count(struct stats *s, int r)
{
	if (r == PAM_SUCCESS)
		s->allowed++;
	else if (r == PAM_PERM_DENIED)
		s->denied++;
	else
		s->errors++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *module, const char *via, struct stats *s,
		   uint32_t users, uint32_t appls)
{
	double sum = 0;
	unsigned i;

	qsort(s->t, s->n, sizeof(*s->t), cmp_double);
	for (i = 0; i < s->n; i++)
		sum += s->t[i];
	printf("PAM module=%s via=%s users=%" PRIu32 " appls=%" PRIu32 " calls=%u "
	       "p50_us=%.2f p90_us=%.2f p99_us=%.2f mean_us=%.2f "
	       "allowed=%u denied=%u errors=%u\n",
	       module, via, users, appls, s->n, s->t[s->n / 2], s->t[s->n * 9 / 10],
	       s->t[s->n * 99 / 100], sum / s->n, s->allowed, s->denied, s->errors);
}

int main(int argc, char **argv)
{
	const char *dir, *accord_so, *access_so;
	uint32_t users = 100000, appls = 10000, calls = 20000, i, k;
	struct accord_range ur = { 100000, 1999999 }, gr = { 100000, 1999999 };
	struct accord_defaults def = { "/home", "/bin/sh" };
	struct accord_state *st;
	struct accord_secrets *sec;
	struct accord_err e = { 0 };
	static const unsigned char uuid[16] = { 1 };
	unsigned char *img;
	size_t len;
	char path[4096], name[64], groups[128], text[8192];
	uint32_t svc_appl[SERVICES], *appl_user;
	pam_handle_t *hacc, *hpa;
	char confdir[4096];
	struct pam_conv conv = { no_conv, NULL };
	struct stats sa = { 0 }, sp = { 0 }, da = { 0 };
	char acc_args[SERVICES][2][4200];
	sm_fn acc_fn;
	unsigned disagree = 0;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: pambench DIR PAM_ACCORD_SO PAM_ACCESS_SO [USERS [APPLS [CALLS]]]\n");
		return 2;
	}
	dir = argv[1];
	accord_so = argv[2];
	access_so = argv[3];
	if (argc > 4)
		users = count_arg(argv[4], "USERS", 10);
	if (argc > 5)
		appls = count_arg(argv[5], "APPLS", SERVICES);
	if (argc > 6)
		calls = count_arg(argv[6], "CALLS", 100);

	/* --- the registry's data, built in memory ------------------------ */
	st = accord_state_new(&ur, &gr);
	if (!st)
		die("state", NULL);
	accord_state_set_actor(st, time(NULL), "pambench");
	for (i = 0; i < SHARED_GROUPS; i++) {
		snprintf(name, sizeof(name), "g%" PRIu32, i);
		if (accord_group_add(st, name, false, 0, false, &e) < 0)
			die("group add", &e);
	}
	for (i = 0; i < users; i++) {
		struct accord_user_spec spec = { 0 };
		uint32_t a = rnd(SHARED_GROUPS), b = rnd(SHARED_GROUPS), c = rnd(SHARED_GROUPS);

		snprintf(name, sizeof(name), "u%" PRIu32, i);
		snprintf(groups, sizeof(groups), "g%" PRIu32 ",g%" PRIu32 ",g%" PRIu32, a, b, c);
		if (a == b || b == c || a == c) /* keep the list free of repeats */
			snprintf(groups, sizeof(groups), "g%" PRIu32, a);
		spec.name = name;
		spec.groups = groups;
		if (accord_user_add(st, &spec, &def, &e) < 0)
			die("user add", &e);
	}
	snprintf(path, sizeof(path), "%s/access", dir);
	if (mkdir(path, 0755) != 0)
		die(path, NULL);
	appl_user = calloc(appls, sizeof(*appl_user));
	if (!appl_user)
		die("calloc", NULL);
	for (k = 0; k < appls; k++) {
		char *p = text;
		size_t left = sizeof(text);
		int n;

		snprintf(name, sizeof(name), "app%" PRIu32, k);
		if (accord_appl_add(st, name, ACCORD_ACCESS_NONE, &e) < 0)
			die("appl add", &e);
		n = snprintf(p, left, "+:");
		p += n;
		left -= (size_t)n;
		for (i = 0; i < GROUPS_PER_APPL; i++) {
			char g[32];

			snprintf(g, sizeof(g), "g%" PRIu32, rnd(SHARED_GROUPS));
			if (accord_appl_permit(st, name, ACCORD_ACE_GROUP, g,
					       ACCORD_ACCESS_READ, &e) < 0)
				die("appl permit", &e);
			n = snprintf(p, left, "(%s) ", g);
			p += n;
			left -= (size_t)n;
		}
		{
			char u[32];

			appl_user[k] = rnd(users);
			snprintf(u, sizeof(u), "u%" PRIu32, appl_user[k]);
			if (accord_appl_permit(st, name, ACCORD_ACE_USER, u,
					       ACCORD_ACCESS_READ, &e) < 0)
				die("appl permit", &e);
			snprintf(p, left, "%s:ALL\n-:ALL:ALL\n", u);
		}
		snprintf(path, sizeof(path), "%s/access/%s.conf", dir, name);
		write_file(path, text, 0644);
	}
	if (accord_snapshot_build(st, 1, uuid, time(NULL), &img, &len, &e) < 0)
		die("snapshot build", &e);
	snprintf(path, sizeof(path), "%s/snapshot", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, img, len) != (ssize_t)len || close(fd) != 0)
		die(path, NULL);
	free(img);

	/* --- accord.conf, secrets store, service files -------------------- */
	snprintf(path, sizeof(path), "%s/reg", dir);
	if (mkdir(path, 0700) != 0)
		die(path, NULL);
	if (accord_secrets_open(path, true, &sec, &e) < 0)
		die("secrets store", &e);
	accord_secrets_close(sec);
	snprintf(text, sizeof(text), "registry = %s/reg\nsnapshot = %s/snapshot\n", dir, dir);
	snprintf(path, sizeof(path), "%s/accord.conf", dir);
	write_file(path, text, 0644);
	snprintf(path, sizeof(path), "%s/pam.d", dir);
	if (mkdir(path, 0755) != 0)
		die(path, NULL);
	snprintf(path, sizeof(path), "%s/pam.d/other", dir);
	write_file(path, "auth required pam_deny.so\naccount required pam_deny.so\n", 0644);
	for (k = 0; k < SERVICES; k++) {
		svc_appl[k] = rnd(appls);
		snprintf(path, sizeof(path), "%s/pam.d/accord-%" PRIu32, dir, k);
		snprintf(text, sizeof(text), "account required %s conf=%s/accord.conf appl=app%" PRIu32 "\n",
			 accord_so, dir, svc_appl[k]);
		write_file(path, text, 0644);
		snprintf(path, sizeof(path), "%s/pam.d/access-%" PRIu32, dir, k);
		snprintf(text, sizeof(text), "account required %s accessfile=%s/access/app%" PRIu32 ".conf\n",
			 access_so, dir, svc_appl[k]);
		write_file(path, text, 0644);
		snprintf(acc_args[k][0], sizeof(acc_args[k][0]), "conf=%s/accord.conf", dir);
		snprintf(acc_args[k][1], sizeof(acc_args[k][1]), "appl=app%" PRIu32, svc_appl[k]);
	}
	accord_state_free(st);

	/* --- the measurement ------------------------------------------------ */
	snprintf(confdir, sizeof(confdir), "%s/pam.d", dir);
	acc_fn = sm_acct(accord_so); /* keeps both modules loaded between handles */
	sa.t = calloc(calls, sizeof(double));
	sp.t = calloc(calls, sizeof(double));
	da.t = calloc(calls, sizeof(double));
	if (!sa.t || !sp.t || !da.t)
		die("calloc", NULL);
	for (i = 0; i < calls + calls / 10; i++) { /* the first tenth warms up */
		uint32_t s = rnd(SERVICES);
		int ra, rp, rda;
		const char *aargv[2] = { acc_args[s][0], acc_args[s][1] };
		double t0, t1, t2, t3;

		/* Half the calls for a user the application permits by name,
		 * half for a random one (mostly denied): both paths count. */
		char svc[32];

		snprintf(name, sizeof(name), "u%" PRIu32,
			 i % 2 ? appl_user[svc_appl[s]] : rnd(users));
		snprintf(svc, sizeof(svc), "accord-%" PRIu32, s);
		if (pam_start_confdir(svc, name, &conv, confdir, &hacc) != PAM_SUCCESS)
			die("pam_start_confdir", NULL);
		snprintf(svc, sizeof(svc), "access-%" PRIu32, s);
		if (pam_start_confdir(svc, name, &conv, confdir, &hpa) != PAM_SUCCESS)
			die("pam_start_confdir", NULL);
		t0 = now_us();
		ra = pam_acct_mgmt(hacc, PAM_SILENT);
		t1 = now_us();
		rp = pam_acct_mgmt(hpa, PAM_SILENT);
		t2 = now_us();
		rda = acc_fn(hacc, PAM_SILENT, 2, aargv);
		t3 = now_us();
		if ((ra == PAM_SUCCESS) != (rp == PAM_SUCCESS) && disagree < 5)
			fprintf(stderr, "pambench: %s on app%" PRIu32 ": pam_accord %s, pam_access %s\n",
				name, svc_appl[s], pam_strerror(hacc, ra), pam_strerror(hpa, rp));
		pam_end(hacc, PAM_SUCCESS);
		pam_end(hpa, PAM_SUCCESS);
		if (i < calls / 10)
			continue;
		sa.t[sa.n++] = t1 - t0;
		sp.t[sp.n++] = t2 - t1;
		da.t[da.n++] = t3 - t2;
		count(&sa, ra);
		count(&sp, rp);
		count(&da, rda);
		if (ra != rda)
			disagree++; /* the same call must give the same answer */
		if ((ra == PAM_SUCCESS) != (rp == PAM_SUCCESS))
			disagree++;
	}
	report("pam_accord", "libpam", &sa, users, appls);
	report("pam_access", "libpam", &sp, users, appls);
	report("pam_accord", "direct", &da, users, appls);

	/* warm: one handle per service, reused */
	{
		pam_handle_t *hw[SERVICES];
		struct stats wa = { 0 }, wd = { 0 };

		wa.t = calloc(calls * 10, sizeof(double));
		wd.t = calloc(calls * 10, sizeof(double));
		if (!wa.t || !wd.t)
			die("calloc", NULL);
		for (k = 0; k < SERVICES; k++) {
			char svc[32];

			snprintf(svc, sizeof(svc), "accord-%" PRIu32, k);
			if (pam_start_confdir(svc, "u0", &conv, confdir, &hw[k]) != PAM_SUCCESS)
				die("pam_start_confdir", NULL);
		}
		for (i = 0; i < calls * 10 + calls; i++) {
			uint32_t s = rnd(SERVICES);
			const char *aargv[2] = { acc_args[s][0], acc_args[s][1] };
			int r, rd;
			double t0, t1, t2;

			snprintf(name, sizeof(name), "u%" PRIu32,
				 i % 2 ? appl_user[svc_appl[s]] : rnd(users));
			pam_set_item(hw[s], PAM_USER, name);
			t0 = now_us();
			r = pam_acct_mgmt(hw[s], PAM_SILENT);
			t1 = now_us();
			rd = acc_fn(hw[s], PAM_SILENT, 2, aargv);
			t2 = now_us();
			if (i < calls)
				continue;
			wa.t[wa.n++] = t1 - t0;
			wd.t[wd.n++] = t2 - t1;
			count(&wa, r);
			count(&wd, rd);
			if (r != rd)
				disagree++;
		}
		report("pam_accord", "libpam-warm", &wa, users, appls);
		report("pam_accord", "direct-warm", &wd, users, appls);
		for (k = 0; k < SERVICES; k++)
			pam_end(hw[k], PAM_SUCCESS);
		sa.errors += wa.errors + wd.errors;
		free(wa.t);
		free(wd.t);
	}
	printf("PAM disagreements=%u\n", disagree);
	free(sa.t);
	free(sp.t);
	free(da.t);
	free(appl_user);
	return disagree || sa.errors || sp.errors || da.errors ? 1 : 0;
}
