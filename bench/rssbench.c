/* SPDX-License-Identifier: MIT */
/*
 * rssbench.c - does an NSS module's memory grow with the number of lookups?
 *
 * usage: rssbench -m MODULE.so -p PREFIX [-n LOOKUPS] [-l LABEL] NAMESFILE
 *
 * dlopens MODULE, then does LOOKUPS (default 1,000,000) lookups of random
 * users from NAMESFILE ("name uid gid" lines, as written by nssbench gen),
 * cycling through getpwnam_r (hit), getpwuid_r (hit), getpwnam_r (miss),
 * getpwuid_r (miss) and initgroups_dyn, calling _nss_PREFIX_* directly.
 * It does that twice and prints one MEM line per phase with VmRSS, RssAnon,
 * RssFile, VmSize, VmData (from /proc/self/status) and the bytes malloc has
 * handed out (mallinfo2), so a leak or a per-lookup cache shows up as
 * growth of RssAnon/VmData/heap between the phases, while RssFile is the
 * part of the mapped snapshot the lookups have touched (bounded by its
 * size).  Every hit is checked; wrong answers are counted in errors=.
 * The first lookup of the process (the one that maps the snapshot) is
 * timed on its own: FIRST label=... us=....
 *
 * Build: cc -O2 -o rssbench rssbench.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <nss.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*pwuid_fn)(uid_t, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*initgr_fn)(const char *, gid_t, long *, long *, gid_t **, long,
				     int *);

struct user {
	char *name;
	uid_t uid;
	gid_t gid;
};

static struct user *users;
static size_t nusers;
static uint64_t rng = 88172645463325252ull;

static uint64_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static long status_kb(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static void report(const char *label, const char *phase, long lookups, long errors)
{
	char st[8192];
	FILE *f = fopen("/proc/self/status", "r");
	size_t n = f ? fread(st, 1, sizeof(st) - 1, f) : 0;
	struct mallinfo2 mi = mallinfo2();

	if (f)
		fclose(f);
	st[n] = '\0';
	printf("MEM label=%s phase=%s lookups=%ld vmrss_kb=%ld rss_anon_kb=%ld rss_file_kb=%ld "
	       "vmsize_kb=%ld vmdata_kb=%ld heap_inuse_b=%zu errors=%ld\n",
	       label, phase, lookups, status_kb(st, "VmRSS:"), status_kb(st, "RssAnon:"),
	       status_kb(st, "RssFile:"), status_kb(st, "VmSize:"), status_kb(st, "VmData:"),
	       mi.uordblks + mi.hblkhd, errors);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *module = NULL, *prefix = NULL, *label = "-";
	long lookups = 1000000, errors = 0, done = 0;
	int c;

	while ((c = getopt(argc, argv, "m:p:n:l:")) != -1) {
		switch (c) {
		case 'm': module = optarg; break;
		case 'p': prefix = optarg; break;
		case 'n': lookups = atol(optarg); break;
		case 'l': label = optarg; break;
		default: goto usage;
		}
	}
	if (!module || !prefix || optind != argc - 1 || lookups < 1)
		goto usage;

	FILE *f = fopen(argv[optind], "r");
	if (!f) {
		perror(argv[optind]);
		return 1;
	}
	size_t cap = 1024;
	char name[256];
	unsigned long uid, gid;
	users = malloc(cap * sizeof(*users));
	while (fscanf(f, "%255s %lu %lu", name, &uid, &gid) == 3) {
		if (nusers == cap)
			users = realloc(users, (cap *= 2) * sizeof(*users));
		users[nusers].name = strdup(name);
		users[nusers].uid = (uid_t)uid;
		users[nusers].gid = (gid_t)gid;
		nusers++;
	}
	fclose(f);
	if (!nusers) {
		fprintf(stderr, "no users in %s\n", argv[optind]);
		return 1;
	}

	/* everything the driver itself needs is allocated before the first MEM line */
	static char buf[65536];
	long gsize = 64, start;
	gid_t *groups = malloc((size_t)gsize * sizeof(*groups));
	char sym[256];
	report(label, "before_dlopen", 0, 0);

	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	snprintf(sym, sizeof(sym), "_nss_%s_getpwnam_r", prefix);
	pwnam_fn pwnam = (pwnam_fn)dlsym(h, sym);
	snprintf(sym, sizeof(sym), "_nss_%s_getpwuid_r", prefix);
	pwuid_fn pwuid = (pwuid_fn)dlsym(h, sym);
	snprintf(sym, sizeof(sym), "_nss_%s_initgroups_dyn", prefix);
	initgr_fn initgr = (initgr_fn)dlsym(h, sym);
	if (!pwnam || !pwuid) {
		fprintf(stderr, "%s: no _nss_%s_getpw{nam,uid}_r\n", module, prefix);
		return 1;
	}
	report(label, "after_dlopen", 0, 0);

	/* the first lookup of a process maps (and checks) the snapshot */
	{
		struct passwd pw;
		int err = 0;
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		enum nss_status s = pwnam(users[0].name, &pw, buf, sizeof(buf), &err);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (s != NSS_STATUS_SUCCESS || pw.pw_uid != users[0].uid)
			errors++;
		printf("FIRST label=%s us=%.1f\n", label,
		       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3);
		done++;
		report(label, "after_first_lookup", done, errors);
	}

	for (int pass = 1; pass <= 2; pass++) {
		for (long i = 0; i < lookups; i++) {
			struct user *u = &users[xrand() % nusers];
			struct passwd pw;
			enum nss_status s;
			int err = 0;
			char miss[32];

			switch (i % 5) {
			case 0:
				s = pwnam(u->name, &pw, buf, sizeof(buf), &err);
				if (s != NSS_STATUS_SUCCESS || pw.pw_uid != u->uid)
					errors++;
				break;
			case 1:
				s = pwuid(u->uid, &pw, buf, sizeof(buf), &err);
				if (s != NSS_STATUS_SUCCESS || strcmp(pw.pw_name, u->name))
					errors++;
				break;
			case 2:
				snprintf(miss, sizeof(miss), "zzmiss%09lu",
					 (unsigned long)(xrand() % 1000000000ul));
				if (pwnam(miss, &pw, buf, sizeof(buf), &err) != NSS_STATUS_NOTFOUND)
					errors++;
				break;
			case 3:
				if (pwuid((uid_t)(3000000000u + xrand() % 100000000u), &pw, buf,
					  sizeof(buf), &err) != NSS_STATUS_NOTFOUND)
					errors++;
				break;
			default:
				if (!initgr) /* module without initgroups_dyn: one more pwnam */
					s = pwnam(u->name, &pw, buf, sizeof(buf), &err);
				else {
					start = 1;
					groups[0] = u->gid;
					s = initgr(u->name, u->gid, &start, &gsize, &groups, 1024,
						   &err);
				}
				if (s != NSS_STATUS_SUCCESS && s != NSS_STATUS_NOTFOUND)
					errors++;
				break;
			}
			done++;
			if (i + 1 == 1 || i + 1 == 1000 || i + 1 == 100000 || i + 1 == lookups) {
				char phase[64];
				snprintf(phase, sizeof(phase), "pass%d_after_%ld", pass, i + 1);
				report(label, phase, done, errors);
			}
		}
	}
	free(groups);
	return errors ? 3 : 0;

usage:
	fprintf(stderr, "usage: rssbench -m MODULE.so -p PREFIX [-n LOOKUPS] [-l LABEL] NAMESFILE\n");
	return 2;
}
