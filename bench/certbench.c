/* SPDX-License-Identifier: MIT */
/*
 * certbench: certificate-to-user mapping and whole certificate logon, beside
 * libsss_certmap and OpenSSL's own floor in the same run (bench/run.sh's
 * `cert` part; method: ../shared/spec/certmap.md §C).
 *
 * usage: certbench [-t SECS] [-r REPS] [-k K] [-m LIST] [-s LIST]
 *                  [-l M] [-w DIR] [-p PARTS]
 *   -t SECS  length of one timed sample (default 0.3 s, at least 20 ops)
 *   -r REPS  samples per measurement (default 5); the median is reported
 *   -k K     client certificates per set (default 10000)
 *   -m LIST  our map counts (default 10,1000,10000,100000)
 *   -s LIST  libsss_certmap rule counts (default 10,1000,10000)
 *   -l M     the map count of the logon part (default: largest of -m)
 *   -w DIR   an empty directory for the logon part's secrets store (the
 *            profile status reads its logon records); default: a temp dir,
 *            removed at the end
 *   -p PARTS comma list of map, sss, logon (default all three)
 *
 * Our side uses only the public API: a state (accord_state_new) with users
 * (accord_user_add), the test CA (accord_ca_add) and M DN-filter maps
 * (accord_certmap_add), built into a real snapshot (accord_snapshot_build,
 * accord_snapshot_open_mem), whose certificate section is read in place
 * (accord_snap_certdb, accord_certdb_open).  Each client certificate is
 * parsed once and its names taken once (accord_certnames_from_x509); the
 * timed operation is accord_certmap_resolve(), RACF's search order as hash
 * probes.  Scenarios (M = the number of maps in the index):
 *   exact    M maps "CN=user<i>,O=Example,C=GB" -> user<i> (M users);
 *            hits map at step 3 (full subject)
 *   partial  M/2 maps "CN=user<i>,O=Example,C=GB" -> user<i>, M/2 - 1 maps
 *            "O=Dept<j>,C=GB" and one catch-all "O=Example,C=GB" -> guest;
 *            hits are certificates "CN=visitor<k>,O=Example,C=GB", mapped
 *            by the catch-all at step 4 (partial subject)
 *   misses   "CN=nobody<k>,O=Other,C=GB" from the same CA: no map, so
 *            every probe is made (2 registration probes, then 2n+m)
 * Every set has K certificates (user certificates: indices spread over the
 * M users, or cycling over them when M < K, so that every M is measured
 * with the same amount of certificate data), visited with a stride: the
 * "spread" sets, cold in the caches as on a busy server.  The "hot" sets
 * are their first 10 certificates, all in the caches: the floor.
 * Also per M: op=names (accord_certnames_from_x509 of a parsed certificate)
 * and op=der (what a caller holding only DER pays: accord_cert_load, names,
 * resolve), the fair comparison with libsss_certmap, which takes DER.
 *
 * Anchor (sss): libsss_certmap with M rules "<SUBJECT>^CN=user<i>,O=Example,
 * C=GB$" -> "(uid=user<i>)" at random distinct priorities (the matching rule
 * sits at a uniformly random place in the scan), sss_certmap_match_cert() on
 * the same certificates' DER (hits) and on the O=Other ones (misses: the
 * whole list is scanned); parse_only = the same call with no rules.
 *
 * Logon: per certificate accord_cert_load (DER) + accord_trust_verify (the
 * trust set of the snapshot's CAs, accord_certdb_trust, built once; policy
 * from accord.conf's defaults) + accord_certnames_from_x509 +
 * accord_certmap_resolve + accord_decide_cert (snapshot, accord.conf
 * defaults, and a secrets store: with none accord_decide_cert() answers
 * internal_error, as the status check must read the profile's logon record)
 * + the frees, each stage timed with the thread's CPU clock (a read costs
 * about 0.5 us: stage=thread_cputime; 7 a logon); beside it OpenSSL alone: d2i_X509 and
 * X509_verify_cert (an X509_STORE holding the CA, one X509_STORE_CTX per
 * call), the floor any verifier pays.
 *
 * Correctness before timing: every certificate is resolved once and must
 * map to the right user at the right step (misses: no match); the sss
 * anchor's search filter must be "(uid=user<i>)" for up to 50 of them;
 * a logon (up to 2,000 certificates) must verify, map and be allowed.  The timed loops check each
 * answer again (errors=).  Exit status 1 on any wrong answer.
 *
 * Times: us = median over REPS samples of the thread's CPU time per
 * operation (what one core does, however busy the machine is), [min_us,
 * max_us] across samples, wall_us the wall clock's median.  One core: the
 * process pins itself to the CPU it starts on.
 *
 * Output, one line per measurement:
 *   CERT part=map impl=accord|sss scenario=exact|partial M=... op=resolve|
 *        names|der|match|parse_only keys=hit|miss K=... set=spread|hot
 *        checked=...
 *        errors=0 us=... min_us=... max_us=... wall_us=... ops=... reps=...
 *   CERT part=logon impl=accord|openssl stage=load|verify|names|resolve|
 *        decide|free|total|d2i_X509|X509_verify_cert ...
 *   CERTSETUP impl=... M=... setup_ms=... (building states, snapshots, rules)
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <accord/certmap.h>
#include <accord/certverify.h>
#include <accord/logon.h>
#include <accord/policy.h>
#include <accord/registry.h>
#include <accord/snapshot.h>
#include <accord/state.h>

#include "certgen.h"

#ifdef HAVE_SSS_CERTMAP
#include <sss_certmap.h>
#endif

#define MAX_LIST 16
#define HOT 10   /* the "hot" sets: 10 certificates, all in cache */
#define CA_SUBJECT "/C=GB/O=Example/CN=Test CA"

static double g_secs = 0.3;
static int g_reps = 5;
static size_t g_kmax = 10000;   /* K */
static int g_bad;                 /* wrong answers seen anywhere */

static struct certgen_cert g_ca;  /* the test CA */
static unsigned char *g_ca_der;
static size_t g_ca_len;
static EVP_PKEY *g_key;           /* one key shared by all leaves (speed) */

static void die(const char *what, const struct accord_err *e)
{
	fprintf(stderr, "certbench: %s%s%s\n", what, e ? ": " : "", e ? e->msg : "");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* ---- certificates ------------------------------------------------------ */

struct item {
	X509 *x;
	unsigned char *der;
	size_t len;
	struct accord_certnames names;
	long idx;                   /* user index, -1 otherwise */
	char want[ACCORD_LABEL_MAX + 1]; /* expected user; "" = no match */
	int want_step;
};

static void make_item(struct item *it, const char *subject, uint64_t serial, long idx,
		      const char *want, int want_step)
{
	struct certgen_opts o;
	struct certgen_cert c = { 0 };
	struct accord_err e = { 0 };

	certgen_opts_init(&o);
	o.subject = subject;
	o.serial = serial;
	o.key = g_key;
	if (certgen_make(&o, &g_ca, &c) != 0)
		die("certgen_make", NULL);
	EVP_PKEY_free(c.key);
	it->x = c.x509;
	if (certgen_cert_der(it->x, &it->der, &it->len) != 0)
		die("certgen_cert_der", NULL);
	if (accord_certnames_from_x509(it->x, &it->names, &e) != 0)
		die("accord_certnames_from_x509", &e);
	it->idx = idx;
	snprintf(it->want, sizeof(it->want), "%s", want);
	it->want_step = want_step;
}

static void free_items(struct item *it, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		X509_free(it[i].x);
		free(it[i].der);
		accord_certnames_clear(&it[i].names);
	}
	free(it);
}

/* K certificates user<idx>, mapped at step 3: idx spread over [0, users)
 * when K <= users, else cycling over the users (distinct certificates of
 * the same users: every M gets the same number of certificates). */
static struct item *user_items(size_t users, size_t k)
{
	struct item *it = calloc(k, sizeof(*it));
	char subj[128], want[40];
	size_t j;

	if (!it)
		die("calloc", NULL);
	for (j = 0; j < k; j++) {
		long idx = (long)(k <= users ? j * users / k : j % users);

		snprintf(subj, sizeof(subj), "/C=GB/O=Example/CN=user%ld", idx);
		snprintf(want, sizeof(want), "user%ld", idx);
		make_item(&it[j], subj, 0x100000u + (uint64_t)j, idx, want, 3);
	}
	return it;
}

static struct item *visitor_items(size_t k)
{
	struct item *it = calloc(k, sizeof(*it));
	char subj[128];
	size_t j;

	if (!it)
		die("calloc", NULL);
	for (j = 0; j < k; j++) {
		snprintf(subj, sizeof(subj), "/C=GB/O=Example/CN=visitor%zu", j);
		make_item(&it[j], subj, 0x200000u + j, -1, "guest", 4);
	}
	return it;
}

static struct item *miss_items(size_t k)
{
	struct item *it = calloc(k, sizeof(*it));
	char subj[128];
	size_t j;

	if (!it)
		die("calloc", NULL);
	for (j = 0; j < k; j++) {
		snprintf(subj, sizeof(subj), "/C=GB/O=Other/CN=nobody%zu", j);
		make_item(&it[j], subj, 0x300000u + j, -1, "", 0);
	}
	return it;
}

/* ---- the timing harness ------------------------------------------------ */

/* One operation on item i: 0 right answer, 1 wrong answer. */
typedef int (*op_fn)(void *ctx, size_t i);

struct meas {
	double us, min_us, max_us, wall_us;
	long ops;
	long errors;
	size_t checked;
};

static size_t gcd_sz(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Checks every item once (correctness and warm-up; at most check_max,
 * spread), then REPS samples of `ops` operations each (calibrated to last
 * about g_secs, at least 20), visiting the n items with a stride coprime to
 * n so that neighbouring operations touch unrelated index slots.
 */
static void measure(op_fn fn, void *ctx, size_t n, size_t check_max, struct meas *m)
{
	size_t stride = 7919, pos = 0, i, chk = n < check_max ? n : check_max;
	double *cpu = calloc((size_t)g_reps, sizeof(double));
	double *wall = calloc((size_t)g_reps, sizeof(double));
	double t0, c0, per;
	long ops, j, errs = 0;
	int r;

	if (!cpu || !wall)
		die("calloc", NULL);
	if (n == 0)
		die("no certificates to measure", NULL);
	while (n > 1 && gcd_sz(stride, n) != 1)
		stride += 2;
	for (i = 0; i < chk; i++)
		errs += fn(ctx, n <= check_max ? i : (i * stride) % n);
	m->checked = chk;
	t0 = now_s();
	for (j = 0; j < 20; j++) {
		errs += fn(ctx, pos);
		pos = (pos + stride) % n;
	}
	per = (now_s() - t0) / 20;
	ops = (long)(g_secs / (per > 1e-9 ? per : 1e-9));
	if (ops < 20)
		ops = 20;
	if (ops > 20000000)
		ops = 20000000;
	for (r = 0; r < g_reps; r++) {
		t0 = now_s();
		c0 = cpu_s();
		for (j = 0; j < ops; j++) {
			errs += fn(ctx, pos);
			pos = (pos + stride) % n;
		}
		cpu[r] = (cpu_s() - c0) * 1e6 / (double)ops;
		wall[r] = (now_s() - t0) * 1e6 / (double)ops;
	}
	qsort(cpu, (size_t)g_reps, sizeof(double), cmp_double);
	qsort(wall, (size_t)g_reps, sizeof(double), cmp_double);
	m->us = cpu[g_reps / 2];
	m->min_us = cpu[0];
	m->max_us = cpu[g_reps - 1];
	m->wall_us = wall[g_reps / 2];
	m->ops = ops;
	m->errors = errs;
	if (errs)
		g_bad = 1;
	free(cpu);
	free(wall);
}

static double load1(void)
{
	double l1 = 0;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l1) != 1)
			l1 = 0;
		fclose(f);
	}
	return l1;
}

static void print_meas(const char *head, const struct meas *m, const char *tail)
{
	printf("CERT %s checked=%zu errors=%ld us=%.3f min_us=%.3f max_us=%.3f wall_us=%.3f "
	       "ops=%ld reps=%d load1=%.2f%s%s\n", head, m->checked, m->errors, m->us,
	       m->min_us, m->max_us, m->wall_us, m->ops, g_reps, load1(), tail ? " " : "",
	       tail ? tail : "");
	fflush(stdout);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return v[n / 2];
}

/* ---- our side: a state, its snapshot, the section ------------------------ */

struct ours {
	unsigned char *img;
	size_t len;
	struct accord_snapshot snap;
	struct accord_certdb db;
	size_t users, maps;
};

static void add_user(struct accord_state *st, const char *name)
{
	static const struct accord_defaults def = { "/home", "/bin/sh" };
	struct accord_user_spec s = { .name = name };
	struct accord_err e = { 0 };

	if (accord_user_add(st, &s, &def, &e) != 0)
		die("accord_user_add", &e);
}

static void add_map(struct accord_state *st, const char *user, const char *sdn)
{
	struct accord_certmap_spec s = { .user = user, .sdn = sdn };
	struct accord_err e = { 0 };

	if (accord_certmap_add(st, &s, NULL, &e) != 0)
		die("accord_certmap_add", &e);
}

/*
 * exact:   m users user<i>, m maps CN=user<i>,O=Example,C=GB -> user<i>
 * partial: u = m/2 users and full maps as above, m - u - 1 maps
 *          O=Dept<j>,C=GB -> user<j mod u>, O=Example,C=GB -> guest
 */
static void ours_build(struct ours *o, bool partial, size_t m)
{
	static const unsigned char uuid[16] = { 0xce, 0x27 };
	struct accord_range ur = { 10000, 4000000 }, gr = { 10000, 4000000 };
	struct accord_state *st = accord_state_new(&ur, &gr);
	struct accord_err e = { 0 };
	size_t i, u = partial ? (m / 2 ? m / 2 : 1) : m;
	char name[40], sdn[128];
	accord_snap_why why = NULL;
	const void *sec;
	size_t seclen;
	double t0 = now_s(), t1, t2;

	memset(o, 0, sizeof(*o));
	if (!st)
		die("accord_state_new", NULL);
	accord_state_set_actor(st, time(NULL), "certbench");
	if (accord_ca_add(st, g_ca_der, g_ca_len, "testca", ACCORD_CA_TRUST, &e) != 0)
		die("accord_ca_add", &e);
	for (i = 0; i < u; i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		add_user(st, name);
	}
	if (partial)
		add_user(st, "guest");
	o->users = u + (partial ? 1 : 0);
	for (i = 0; i < u; i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		snprintf(sdn, sizeof(sdn), "CN=user%zu,O=Example,C=GB", i);
		add_map(st, name, sdn);
	}
	if (partial) {
		for (i = 0; u + 1 + i < m; i++) {
			snprintf(name, sizeof(name), "user%zu", i % u);
			snprintf(sdn, sizeof(sdn), "O=Dept%zu,C=GB", i);
			add_map(st, name, sdn);
		}
		add_map(st, "guest", "O=Example,C=GB");
	}
	t1 = now_s();
	if (accord_snapshot_build(st, 1, uuid, time(NULL), &o->img, &o->len, &e) != 0)
		die("accord_snapshot_build", &e);
	accord_state_free(st);
	if (accord_snapshot_open_mem(&o->snap, o->img, o->len, &why) != 0) {
		fprintf(stderr, "certbench: accord_snapshot_open_mem: %s\n", why ? why : "?");
		exit(1);
	}
	accord_snap_certdb(&o->snap, &sec, &seclen);
	if (accord_certdb_open(sec, seclen, &o->db, &e) != 0)
		die("accord_certdb_open", &e);
	t2 = now_s();
	o->maps = o->db.nmaps;
	if (o->maps != m) {
		fprintf(stderr, "certbench: the section holds %zu maps, not %zu\n", o->maps, m);
		exit(1);
	}
	printf("CERTSETUP impl=accord scenario=%s M=%zu users=%zu state_ms=%.1f "
	       "snapshot_ms=%.1f snapshot_bytes=%zu section_bytes=%zu map_slots=%u\n",
	       partial ? "partial" : "exact", m, o->users, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
	       o->len, seclen, o->db.map_slots);
	fflush(stdout);
}

static void ours_free(struct ours *o)
{
	free(o->img);
	memset(o, 0, sizeof(*o));
}

struct mapctx {
	const struct accord_certdb *db;
	struct item *it;
	struct accord_certmap_ctx mc;
	int probes;             /* of the last resolve */
};

static int wrong(const struct item *it, const struct accord_map_outcome *o)
{
	if (!it->want[0])
		return o->result != ACCORD_MAP_NO_MATCH;
	return o->result != ACCORD_MAPPED || o->tier != 2 || o->step != it->want_step ||
	       strcmp(o->user, it->want) != 0;
}

static int op_resolve(void *c, size_t i)
{
	struct mapctx *x = c;
	struct accord_map_outcome out;

	if (accord_certmap_resolve(x->db, &x->it[i].names, &x->mc, NULL, NULL, &out) != 0)
		return 1;
	x->probes = out.probes;
	return wrong(&x->it[i], &out);
}

static int op_names(void *c, size_t i)
{
	struct mapctx *x = c;
	struct accord_certnames n;
	int bad;

	if (accord_certnames_from_x509(x->it[i].x, &n, NULL) != 0)
		return 1;
	bad = !n.subject || n.subject->nrdn != 3 || !n.issuer || n.issuer->nrdn != 3 ||
	      memcmp(n.sha256, x->it[i].names.sha256, 32) != 0;
	accord_certnames_clear(&n);
	return bad;
}

/* What a caller holding only DER pays: parse, names, resolve. */
static int op_der(void *c, size_t i)
{
	struct mapctx *x = c;
	struct accord_map_outcome out;
	struct accord_certnames n;
	X509 *cert = accord_cert_load(x->it[i].der, x->it[i].len, NULL);
	int bad = 1;

	if (!cert)
		return 1;
	if (accord_certnames_from_x509(cert, &n, NULL) == 0) {
		if (accord_certmap_resolve(x->db, &n, &x->mc, NULL, NULL, &out) == 0)
			bad = wrong(&x->it[i], &out);
		accord_certnames_clear(&n);
	}
	X509_free(cert);
	return bad;
}

static void run_one(op_fn fn, struct mapctx *x, const char *scenario, size_t maps, const char *op,
		const char *keys, const char *set, struct item *it, size_t k, size_t check_max)
{
	char head[256], tail[64];
	struct meas m;

	x->it = it;
	x->probes = -1;
	snprintf(head, sizeof(head), "part=map impl=accord scenario=%s M=%zu op=%s keys=%s K=%zu "
		 "set=%s", scenario, maps, op, keys, k, set);
	measure(fn, x, k, check_max, &m);
	snprintf(tail, sizeof(tail), "probes=%d", x->probes);
	print_meas(head, &m, x->probes >= 0 ? tail : NULL);
}

/* hits and misses: K spread certificates (cold: the working set of a busy
 * server), then the first HOT of them (all in cache) */
static void ours_measure(const char *scenario, struct ours *o, struct item *hits,
			 struct item *miss, size_t k, bool extra)
{
	struct mapctx x = { &o->db, hits, { .service = "sshd", .host = "bench",
					     .mode = ACCORD_MATCH_LDAP }, 0 };
	size_t hot = k < HOT ? k : HOT;

	run_one(op_resolve, &x, scenario, o->maps, "resolve", "hit", "spread", hits, k, SIZE_MAX);
	run_one(op_resolve, &x, scenario, o->maps, "resolve", "miss", "spread", miss, k, SIZE_MAX);
	run_one(op_resolve, &x, scenario, o->maps, "resolve", "hit", "hot", hits, hot, SIZE_MAX);
	run_one(op_resolve, &x, scenario, o->maps, "resolve", "miss", "hot", miss, hot, SIZE_MAX);
	if (!extra)
		return;
	run_one(op_names, &x, scenario, o->maps, "names", "hit", "spread", hits, k, SIZE_MAX);
	run_one(op_der, &x, scenario, o->maps, "der", "hit", "spread", hits, k, 2000);
	run_one(op_der, &x, scenario, o->maps, "der", "miss", "spread", miss, k, 2000);
}

/* ---- the anchor: libsss_certmap ------------------------------------------ */

#ifdef HAVE_SSS_CERTMAP
/* Resident set now (KiB): /proc/self/statm (the high-water mark of
 * getrusage would hide growth below what earlier steps reached). */
static long rss_kib(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 0x2545F4914F6CDD1Dull;
}

struct sssctx {
	struct sss_certmap_ctx *ctx;
	struct item *it;
};

static int op_sss_hit(void *c, size_t i)
{
	struct sssctx *x = c;

	return sss_certmap_match_cert(x->ctx, x->it[i].der, x->it[i].len) != 0;
}

static int op_sss_miss(void *c, size_t i)
{
	struct sssctx *x = c;

	return sss_certmap_match_cert(x->ctx, x->it[i].der, x->it[i].len) != ENOENT;
}

static int op_sss_parse(void *c, size_t i)
{
	struct sssctx *x = c;
	int r = sss_certmap_match_cert(x->ctx, x->it[i].der, x->it[i].len);

	return r != 0 && r != ENOENT;
}

/* The search filter must name the right user: the anchor's answer. */
static long sss_check(struct sss_certmap_ctx *ctx, struct item *it, size_t k, size_t *checked)
{
	size_t n = k < 50 ? k : 50, j;
	long bad = 0;

	/* cppcheck takes k from a call site where no certificate is checked */
	/* cppcheck-suppress knownConditionTrueFalse */
	for (j = 0; j < n; j++) {
		struct item *c = &it[j * k / n];
		char *filter = NULL, **domains = NULL, want[64];
		int r = sss_certmap_get_search_filter(ctx, c->der, c->len, &filter, &domains);

		snprintf(want, sizeof(want), "(uid=user%ld)", c->idx);
		if (r != 0 || !filter || strcmp(filter, want) != 0) {
			fprintf(stderr, "certbench: sss: %s gave %d '%s', want '%s'\n", c->want, r,
				filter ? filter : "", want);
			bad++;
		}
		sss_certmap_free_filter_and_domains(filter, domains);
	}
	*checked = n;
	return bad;
}

static void sss_run(size_t m, struct item *hits, size_t k, struct item *miss)
{
	struct sssctx x = { NULL, hits };
	uint32_t *prio = calloc(m, sizeof(*prio));
	char head[256], tail[128], match[160], map[64];
	long rss0, bad;
	size_t i, checked;
	double t0, setup;
	struct meas me;

	if (!prio)
		die("calloc", NULL);
	for (i = 0; i < m; i++)
		prio[i] = (uint32_t)i;
	for (i = m - 1; i > 0; i--) {
		size_t j = (size_t)(rng_next() % (i + 1));
		uint32_t t = prio[i];

		prio[i] = prio[j];
		prio[j] = t;
	}
	/* no rules: the certificate parse alone */
	if (sss_certmap_init(NULL, NULL, NULL, &x.ctx) != 0)
		die("sss_certmap_init", NULL);
	snprintf(head, sizeof(head), "part=map impl=sss scenario=exact M=0 op=parse_only keys=hit "
		 "K=%zu set=spread", k);
	measure(op_sss_parse, &x, k, 50, &me);
	print_meas(head, &me, NULL);
	sss_certmap_free_ctx(x.ctx);

	rss0 = rss_kib();
	t0 = now_s();
	if (sss_certmap_init(NULL, NULL, NULL, &x.ctx) != 0)
		die("sss_certmap_init", NULL);
	for (i = 0; i < m; i++) {
		snprintf(match, sizeof(match), "<SUBJECT>^CN=user%zu,O=Example,C=GB$", i);
		snprintf(map, sizeof(map), "(uid=user%zu)", i);
		if (sss_certmap_add_rule(x.ctx, prio[i], match, map, NULL) != 0)
			die("sss_certmap_add_rule", NULL);
	}
	setup = now_s() - t0;
	printf("CERTSETUP impl=sss scenario=exact M=%zu setup_ms=%.1f rss_growth_kib=%ld\n", m,
	       setup * 1e3, rss_kib() - rss0);
	fflush(stdout);

	bad = sss_check(x.ctx, hits, k, &checked);
	snprintf(head, sizeof(head), "part=map impl=sss scenario=exact M=%zu op=match keys=hit K=%zu "
		 "set=spread", m, k);
	measure(op_sss_hit, &x, k, 50, &me);
	me.errors += bad;
	if (bad)
		g_bad = 1;
	snprintf(tail, sizeof(tail), "filter_checked=%zu", checked);
	print_meas(head, &me, tail);

	x.it = miss;
	snprintf(head, sizeof(head), "part=map impl=sss scenario=exact M=%zu op=match keys=miss K=%zu",
		 m, k);
	measure(op_sss_miss, &x, k, 50, &me);
	print_meas(head, &me, NULL);
	sss_certmap_free_ctx(x.ctx);
	free(prio);
}
#endif

/* ---- whole logon ----------------------------------------------------------- */

enum { S_LOAD, S_VERIFY, S_NAMES, S_RESOLVE, S_DECIDE, S_FREE, S_N };
static const char *const stage_name[S_N] = { "load", "verify", "names", "resolve", "decide",
					     "free" };

struct logonctx {
	struct accord_trust *trust;
	struct accord_cert_policy pol;
	const struct accord_certdb *db;
	struct accord_certmap_ctx mc;
	struct accord_logon_ctx lc;
	struct item *it;
	X509_STORE *store;
	double stage[S_N];      /* CPU seconds per stage, accumulated */
	bool timing;
};

/* One logon; 0 when it verified, mapped to the right user and was allowed. */
static int op_logon(void *c, size_t i)
{
	struct logonctx *x = c;
	struct item *it = &x->it[i];
	struct accord_cert_verdict v;
	struct accord_certnames n;
	struct accord_map_outcome out;
	struct accord_decision d;
	struct accord_logon_ctx lc = x->lc;
	double t[S_N + 1];
	int bad = 1, s;
	X509 *cert;

	t[0] = cpu_s();
	cert = accord_cert_load(it->der, it->len, NULL);
	t[1] = cpu_s();
	if (!cert)
		return 1;
	if (accord_trust_verify(x->trust, cert, NULL, &x->pol, &v) != 0 || v.reason != ACCORD_CERT_OK) {
		X509_free(cert);
		return 1;
	}
	t[2] = cpu_s();
	if (accord_certnames_from_x509(cert, &n, NULL) != 0) {
		X509_free(cert);
		return 1;
	}
	t[3] = cpu_s();
	if (accord_certmap_resolve(x->db, &n, &x->mc, NULL, NULL, &out) == 0 && !wrong(it, &out)) {
		t[4] = cpu_s();
		lc.user = out.user;
		bad = accord_decide_cert(&lc, &d) != ACCORD_R_OK;
	} else {
		t[4] = cpu_s();
	}
	t[5] = cpu_s();
	accord_certnames_clear(&n);
	X509_free(cert);
	t[6] = cpu_s();
	if (x->timing)
		for (s = 0; s < S_N; s++)
			x->stage[s] += t[s + 1] - t[s];
	return bad;
}

static int op_verify_only(void *c, size_t i)
{
	struct logonctx *x = c;
	struct accord_cert_verdict v;

	return accord_trust_verify(x->trust, x->it[i].x, NULL, &x->pol, &v) != 0 ||
	       v.reason != ACCORD_CERT_OK;
}

static int op_d2i(void *c, size_t i)
{
	struct logonctx *x = c;
	const unsigned char *p = x->it[i].der;
	X509 *cert = d2i_X509(NULL, &p, (long)x->it[i].len);

	X509_free(cert);
	return !cert;
}

static int op_x509_verify(void *c, size_t i)
{
	struct logonctx *x = c;
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int ok = sc && X509_STORE_CTX_init(sc, x->store, x->it[i].x, NULL) == 1 &&
		 X509_verify_cert(sc) == 1;

	X509_STORE_CTX_free(sc);
	return !ok;
}

static int op_clock(void *c, size_t i)
{
	(void)c;
	(void)i;
	return cpu_s() < 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void logon_run(struct ours *o, struct item *items, size_t k, const char *dir)
{
	struct logonctx x;
	struct accord_config cfg;
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	char path[4096], head[256], tail[256];
	double *tot, *wall, *st[S_N], t0, c0, per, ts, cs;
	long ops, j, errs = 0;
	size_t i, pos = 0, stride = 7919;
	struct meas m;
	int r, s;

	memset(&x, 0, sizeof(x));
	accord_config_defaults(&cfg);
	accord_cert_policy_from_config(&cfg, &x.pol);
	t0 = now_s();
	if (accord_certdb_trust(&o->db, &x.trust, &e) != 0)
		die("accord_certdb_trust", &e);
	printf("CERTSETUP impl=accord part=logon M=%zu trust_ms=%.3f\n", o->maps,
	       (now_s() - t0) * 1e3);
	snprintf(path, sizeof(path), "%s/reg", dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		die("mkdir of the registry directory", NULL);
	if (accord_secrets_open(path, true, &sec, &e) != 0)
		die("accord_secrets_open", &e);
	x.db = &o->db;
	x.mc = (struct accord_certmap_ctx){ .service = "sshd", .host = "bench",
					     .mode = (enum accord_dn_match)cfg.match };
	x.lc = (struct accord_logon_ctx){ .cfg = &cfg, .snap = &o->snap, .secrets = sec,
					   .appl = "sshd", .now = time(NULL) };
	x.it = items;
	x.store = X509_STORE_new();
	if (!x.store || X509_STORE_add_cert(x.store, g_ca.x509) != 1)
		die("X509_STORE", NULL);

	/* secrets = NULL: what accord_decide_cert() says then */
	{
		struct accord_logon_ctx nl = x.lc;
		struct accord_decision d;

		nl.secrets = NULL;
		nl.user = items[0].want;
		printf("CERTNOTE decide_cert_without_secrets=%s\n",
		       accord_reason_name(accord_decide_cert(&nl, &d)));
	}

	/* the pipeline, stage by stage: every certificate checked first */
	tot = calloc((size_t)g_reps, sizeof(double));
	wall = calloc((size_t)g_reps, sizeof(double));
	for (s = 0; s < S_N; s++)
		st[s] = calloc((size_t)g_reps, sizeof(double));
	for (i = 0; i < k && i < 2000; i++)
		errs += op_logon(&x, (i * 7919) % k);
	while (k > 1 && gcd_sz(stride, k) != 1)
		stride += 2;
	t0 = now_s();
	for (j = 0; j < 20; j++) {
		errs += op_logon(&x, pos);
		pos = (pos + stride) % k;
	}
	per = (now_s() - t0) / 20;
	ops = (long)(g_secs / (per > 1e-9 ? per : 1e-9));
	if (ops < 20)
		ops = 20;
	x.timing = true;
	for (r = 0; r < g_reps; r++) {
		memset(x.stage, 0, sizeof(x.stage));
		t0 = now_s();
		c0 = cpu_s();
		for (j = 0; j < ops; j++) {
			errs += op_logon(&x, pos);
			pos = (pos + stride) % k;
		}
		cs = cpu_s() - c0;
		ts = now_s() - t0;
		tot[r] = cs * 1e6 / (double)ops;
		wall[r] = ts * 1e6 / (double)ops;
		for (s = 0; s < S_N; s++)
			st[s][r] = x.stage[s] * 1e6 / (double)ops;
	}
	x.timing = false;
	if (errs)
		g_bad = 1;
	for (s = 0; s < S_N; s++) {
		printf("CERT part=logon impl=accord M=%zu stage=%s K=%zu checked=%zu errors=%ld "
		       "us=%.3f reps=%d ops=%ld load1=%.2f\n", o->maps, stage_name[s], k,
		       k < 2000 ? k : 2000, errs,
		       median(st[s], g_reps), g_reps, ops, load1());
		free(st[s]);
	}
	m.us = median(tot, g_reps);
	m.min_us = tot[0];
	m.max_us = tot[g_reps - 1];
	m.wall_us = median(wall, g_reps);
	m.ops = ops;
	m.errors = errs;
	m.checked = k < 2000 ? k : 2000;
	snprintf(head, sizeof(head), "part=logon impl=accord M=%zu stage=total K=%zu", o->maps, k);
	print_meas(head, &m, NULL);
	free(tot);
	free(wall);

	/* isolated: our verification alone, OpenSSL alone, the clock */
	snprintf(head, sizeof(head), "part=logon impl=accord M=%zu stage=verify_only K=%zu",
		 o->maps, k);
	measure(op_verify_only, &x, k, 2000, &m);
	print_meas(head, &m, NULL);
	snprintf(head, sizeof(head), "part=logon impl=openssl M=%zu stage=d2i_X509 K=%zu", o->maps, k);
	measure(op_d2i, &x, k, 2000, &m);
	print_meas(head, &m, NULL);
	snprintf(head, sizeof(head), "part=logon impl=openssl M=%zu stage=X509_verify_cert K=%zu",
		 o->maps, k);
	measure(op_x509_verify, &x, k, 2000, &m);
	print_meas(head, &m, NULL);
	snprintf(head, sizeof(head), "part=logon impl=clock M=%zu stage=thread_cputime K=1", o->maps);
	measure(op_clock, &x, 1, 1, &m);
	snprintf(tail, sizeof(tail), "note=one_CLOCK_THREAD_CPUTIME_ID_read_(7_per_logon)");
	print_meas(head, &m, tail);

	X509_STORE_free(x.store);
	accord_trust_free(x.trust);
	accord_secrets_close(sec);
}

/* ---- main ------------------------------------------------------------------ */

static size_t parse_list(const char *s, size_t *out)
{
	size_t n = 0;
	char *end;

	while (*s && n < MAX_LIST) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0) {
			fprintf(stderr, "certbench: bad list '%s'\n", s);
			exit(2);
		}
		out[n++] = v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',') {
			fprintf(stderr, "certbench: bad list\n");
			exit(2);
		}
	}
	return n;
}

static bool in_list(const size_t *l, size_t n, size_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l[i] == v)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	size_t ml[MAX_LIST] = { 10, 1000, 10000, 100000 }, sl[MAX_LIST] = { 10, 1000, 10000 };
	size_t nm = 4, ns = 3, logon_m = 0, i, all[2 * MAX_LIST], na = 0;
	const char *parts = "map,sss,logon", *wdir = NULL;
	char tmpdir[] = "/tmp/certbench.XXXXXX";
	bool p_map, p_sss, p_logon, own_dir = false;
	struct certgen_opts o;
	struct item *miss, *vis;
	cpu_set_t one;
	int c, cpu = sched_getcpu();

	while ((c = getopt(argc, argv, "t:r:k:m:s:l:w:p:")) != -1) {
		switch (c) {
		case 't': g_secs = atof(optarg); break;
		case 'r': g_reps = atoi(optarg); break;
		case 'k': g_kmax = strtoul(optarg, NULL, 10); break;
		case 'm': nm = parse_list(optarg, ml); break;
		case 's': ns = parse_list(optarg, sl); break;
		case 'l': logon_m = strtoul(optarg, NULL, 10); break;
		case 'w': wdir = optarg; break;
		case 'p': parts = optarg; break;
		default:
			fprintf(stderr, "usage: certbench [-t SECS] [-r REPS] [-k K] [-m LIST] "
				"[-s LIST] [-l M] [-w DIR] [-p map,sss,logon]\n");
			return 2;
		}
	}
	if (g_secs <= 0 || g_reps < 1 || g_kmax < 1)
		return 2;
	p_map = strstr(parts, "map") != NULL;
	p_sss = strstr(parts, "sss") != NULL;
	p_logon = strstr(parts, "logon") != NULL;
#ifndef HAVE_SSS_CERTMAP
	if (p_sss) {
		printf("CERTNOTE sss=not_built need=libsss-certmap-dev,libtalloc-dev\n");
		p_sss = false;
	}
#endif
	if (!logon_m)
		for (i = 0; i < nm; i++)
			logon_m = ml[i] > logon_m ? ml[i] : logon_m;
	/* every M any part needs, ascending */
	for (i = 0; i < nm; i++)
		if (p_map && !in_list(all, na, ml[i]))
			all[na++] = ml[i];
	for (i = 0; i < ns; i++)
		if (p_sss && !in_list(all, na, sl[i]))
			all[na++] = sl[i];
	if (p_logon && !in_list(all, na, logon_m))
		all[na++] = logon_m;
	qsort(all, na, sizeof(size_t), cmp_size);

	if (cpu >= 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) != 0)
			cpu = -1;
	}
	if (p_logon && !wdir) {
		if (!mkdtemp(tmpdir))
			die("mkdtemp", NULL);
		wdir = tmpdir;
		own_dir = true;
	}

	certgen_opts_init(&o);
	o.subject = CA_SUBJECT;
	o.is_ca = true;
	o.not_after = 3650 * CERTGEN_DAY;
	if (certgen_make(&o, NULL, &g_ca) != 0 || certgen_cert_der(g_ca.x509, &g_ca_der, &g_ca_len))
		die("CA", NULL);
	if (!(g_key = certgen_key_new()))
		die("key", NULL);
	printf("CERTCONFIG cpu=%d secs=%.2f reps=%d k=%zu parts=%s logon_m=%zu openssl=%s "
	       "sss=%s\n", cpu, g_secs, g_reps, g_kmax, parts, logon_m,
	       OpenSSL_version(OPENSSL_VERSION_STRING),
#ifdef SSS_CERTMAP_VERSION
	       SSS_CERTMAP_VERSION
#else
	       "none"
#endif
	);
	fflush(stdout);
	{
		double t0 = now_s();

		miss = miss_items(g_kmax);
		vis = p_map ? visitor_items(g_kmax) : NULL;
		printf("CERTSETUP impl=certs what=misses,visitors K=%zu certs_ms=%.1f\n", g_kmax,
		       (now_s() - t0) * 1e3);
	}


	for (i = 0; i < na; i++) {
		size_t m = all[i], k = g_kmax;
		bool mine = p_map && in_list(ml, nm, m), logon = p_logon && m == logon_m;
		double t0 = now_s();
		struct item *hits = user_items(m, k);
		struct ours ob;

		printf("CERTSETUP impl=certs M=%zu K=%zu certs_ms=%.1f\n", m, k, (now_s() - t0) * 1e3);
		if (mine || logon) {
			ours_build(&ob, false, m);
			if (mine)
				ours_measure("exact", &ob, hits, miss, k, true);
			if (logon)
				logon_run(&ob, hits, k, wdir);
			ours_free(&ob);
		}
#ifdef HAVE_SSS_CERTMAP
		if (p_sss && in_list(sl, ns, m))
			sss_run(m, hits, k, miss);
#endif
		if (mine) {
			ours_build(&ob, true, m);
			ours_measure("partial", &ob, vis, miss, k, false);
			ours_free(&ob);
		}
		free_items(hits, k);
	}
	free_items(miss, g_kmax);
	if (vis)
		free_items(vis, g_kmax);
	EVP_PKEY_free(g_key);
	certgen_cert_free(&g_ca);
	free(g_ca_der);
	if (own_dir)
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("CERTDONE errors=%s\n", g_bad ? "yes" : "none");
	return g_bad ? 1 : 0;
}
