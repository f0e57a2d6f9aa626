/* SPDX-License-Identifier: MIT */
/*
 * ptbench: PassTicket validations per second on one core, by inverting
 * the ticket to its time (accord_pt_verify(), what accord does) beside a
 * scan of the 2 x window + 1 candidates (accord_pt_verify_scan(): generate
 * for every second of the window, constant-time compare), in the same run.
 *
 * usage: ptbench [SECONDS [ONLY [DIR]]]   SECONDS (default 2): time per
 *        measurement; ONLY: legacy, enhanced, upper, mixed, fetch or all;
 *        DIR: an empty directory on the disk to measure (a registry's
 *        secrets store is made in it) for the replay-cache lines
 *
 * For legacy, enhanced UPPER and enhanced MIXED keys it validates, in
 * turn, 64 tickets generated at spread-out offsets inside the window (so
 * every call succeeds; a call that does not is counted in errors=), and
 * also measures what fetching the algorithm from a private OSSL_LIB_CTX
 * on every call would add (method=fetch: EVP_CIPHER_fetch / EVP_MAC_fetch
 * and free) and what a new library context costs (method=libctx: the
 * first call of a process), which is why common/passticket.c sets both up
 * once per process (pthread_once).
 *
 * Output, one line per measurement:
 *   PT alg=legacy type=- method=invert calls=N wall_s=S cpu_s=C per_s=X us=U
 *      wall_per_s=W errors=0 target_per_s=T
 * per_s and us come from the thread's CPU time: validations per second of
 * one core, however loaded the machine; wall_per_s from the wall clock.
 * Targets: legacy >= 200,000/s, enhanced >= 50,000/s (method=invert).
 *
 * With DIR, the cost of the replay cache, separately: alg=replay
 * method=claim (a new ticket recorded: tmp file, fsync, link(), fsync of
 * the directory) and method=refuse (a ticket already there); for these
 * the wall clock is what counts (wall_per_s).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include <accord/passticket.h>
#include <accord/ptstore.h>

#define NTICKETS 64
#define NOW UINT64_C(1700000000)

typedef int (*verify_fn)(const struct accord_pt_key *, const char *,
			 const char *, const char *, uint64_t, uint64_t *,
			 struct accord_err *);

static const char *only;   /* argv[2]: run only this alg (or "fetch") */

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

/* per_s and us from the thread's CPU time (what one core does, whatever
 * else the machine runs); wall_per_s from the clock on the wall. */
static void report(const char *alg, const char *type, const char *method,
		   unsigned long calls, double wall, double cpu,
		   unsigned long errors, unsigned target)
{
	printf("PT alg=%s type=%s method=%s calls=%lu wall_s=%.3f cpu_s=%.3f "
	       "per_s=%.0f us=%.3f wall_per_s=%.0f errors=%lu target_per_s=%u\n",
	       alg, type, method, calls, wall, cpu, (double)calls / cpu,
	       cpu * 1e6 / (double)calls, (double)calls / wall, errors, target);
	fflush(stdout);
}

static void run(const char *alg, const char *type, const struct accord_pt_key *k,
		double budget, unsigned target)
{
	static const struct {
		const char *name;
		verify_fn fn;
	} methods[] = {
		{ "invert", accord_pt_verify },
		{ "scan", accord_pt_verify_scan },
	};
	char tickets[NTICKETS][ACCORD_PT_LEN + 1];
	uint64_t gen_t[NTICKETS], tg;
	struct accord_err err = { 0 };
	unsigned long calls, errors;
	double t0, t, c0;
	size_t m, i;
	int w = (int)k->window;

	if (only && strcmp(only, alg) != 0 && strcmp(only, type) != 0)
		return;

	for (i = 0; i < NTICKETS; i++) {
		/* offsets spread over [-window, window] */
		gen_t[i] = NOW - (uint64_t)w + (uint64_t)((2 * w * (int)i) / (NTICKETS - 1));
		if (accord_pt_generate(k, "IBMUSER", "TSOR001", gen_t[i], tickets[i],
				       &err) != 0) {
			fprintf(stderr, "ptbench: generate: %s\n", err.msg);
			exit(1);
		}
	}
	for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		calls = errors = 0;
		t0 = now_s();
		c0 = cpu_s();
		do {
			for (i = 0; i < NTICKETS; i++) {
				if (methods[m].fn(k, "IBMUSER", "TSOR001", tickets[i], NOW,
						  &tg, NULL) != 0 || tg != gen_t[i])
					errors++;
				calls++;
				/* the scan is slow: look at the clock often */
				if (m == 1 && now_s() - t0 >= budget)
					break;
			}
			t = now_s() - t0;
		} while (t < budget);
		report(alg, type, methods[m].name, calls, t, cpu_s() - c0, errors,
		       m == 0 ? target : 0);
	}
}

/* A private library context from scratch (what the first call in a
 * process pays): new context, default provider, both fetches, free. */
static void run_libctx(double budget)
{
	unsigned long calls = 0, errors = 0;
	double t0 = now_s(), c0 = cpu_s(), t;

	do {
		OSSL_LIB_CTX *lib = OSSL_LIB_CTX_new();
		OSSL_PROVIDER *prov = lib ? OSSL_PROVIDER_load(lib, "default") : NULL;
		EVP_CIPHER *c = prov ? EVP_CIPHER_fetch(lib, "DES-EDE3-ECB", NULL) : NULL;
		EVP_MAC *mac = prov ? EVP_MAC_fetch(lib, "HMAC", NULL) : NULL;

		errors += !c || !mac;
		EVP_MAC_free(mac);
		EVP_CIPHER_free(c);
		OSSL_PROVIDER_unload(prov);
		OSSL_LIB_CTX_free(lib);
		calls++;
		t = now_s() - t0;
	} while (t < budget);
	report("both", "-", "libctx", calls, t, cpu_s() - c0, errors, 0);
}

/* What fetching the algorithm per call would cost on top. */
static void run_fetch(double budget)
{
	OSSL_LIB_CTX *lib = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *prov = lib ? OSSL_PROVIDER_load(lib, "default") : NULL;
	unsigned long calls, errors;
	double t0, t, c0;
	int pass, i;

	if (only && strcmp(only, "fetch") != 0)
		return;
	if (!prov) {
		fprintf(stderr, "ptbench: no OpenSSL default provider\n");
		exit(1);
	}
	for (pass = 0; pass < 2; pass++) {
		calls = errors = 0;
		t0 = now_s();
		c0 = cpu_s();
		do {
			for (i = 0; i < 256; i++) {
				if (pass == 0) {
					EVP_CIPHER *c = EVP_CIPHER_fetch(lib, "DES-EDE3-ECB", NULL);

					errors += !c;
					EVP_CIPHER_free(c);
				} else {
					EVP_MAC *mac = EVP_MAC_fetch(lib, "HMAC", NULL);

					errors += !mac;
					EVP_MAC_free(mac);
				}
				calls++;
			}
			t = now_s() - t0;
		} while (t < budget);
		report(pass == 0 ? "legacy" : "enhanced", "-", "fetch", calls, t,
		       cpu_s() - c0, errors, 0);
	}
	OSSL_PROVIDER_unload(prov);
	OSSL_LIB_CTX_free(lib);
	run_libctx(budget);
}

/* The replay cache on DIR's disk: claims of new tickets, then of the
 * same tickets again (refused).  Wall-clock figures: it is I/O. */
static void run_replay(double budget, const char *dir)
{
	struct accord_secrets *s = NULL;
	struct accord_err err = { 0 };
	unsigned long calls, errors, n, i;
	char ticket[ACCORD_PT_LEN + 1];
	double t0, t, c0;
	int r;

	if (accord_secrets_open(dir, true, &s, &err) < 0) {
		fprintf(stderr, "ptbench: secrets store in %s: %s\n", dir, err.msg);
		exit(1);
	}
	calls = errors = 0;
	t0 = now_s();
	c0 = cpu_s();
	do {
		snprintf(ticket, sizeof(ticket), "T%07lu", calls % 10000000ul);
		r = accord_pt_replay_claim(s, "IBMUSER", "TSOR001", ticket,
					   (int64_t)time(NULL) + 600, (int64_t)time(NULL), &err);
		if (r != 0)
			errors++;
		calls++;
		t = now_s() - t0;
	} while (t < budget);
	report("replay", "-", "claim", calls, t, cpu_s() - c0, errors, 0);
	n = calls;
	calls = errors = 0;
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < n; i++) {
		snprintf(ticket, sizeof(ticket), "T%07lu", i % 10000000ul);
		r = accord_pt_replay_claim(s, "IBMUSER", "TSOR001", ticket,
					   (int64_t)time(NULL) + 600, (int64_t)time(NULL), &err);
		if (r != -EALREADY)
			errors++;
		calls++;
		if (now_s() - t0 >= budget)
			break;
	}
	t = now_s() - t0;
	report("replay", "-", "refuse", calls, t, cpu_s() - c0, errors, 0);
	accord_secrets_close(s);
}

int main(int argc, char **argv)
{
	struct accord_pt_key lk, ek;
	struct accord_err err = { 0 };
	double budget = argc > 1 ? atof(argv[1]) : 2.0;
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (budget <= 0) {
		fprintf(stderr, "usage: ptbench [SECONDS [legacy|enhanced|upper|mixed|fetch]]\n");
		return 2;
	}
	only = argc > 2 && strcmp(argv[2], "all") ? argv[2] : NULL;
	/* one core: the figures are per core, not per machine */
	if (cpu >= 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) != 0)
			cpu = -1;
	}
	printf("PTCONFIG cpu=%d secs=%.1f tickets=%d now=%llu\n", cpu, budget,
	       NTICKETS, (unsigned long long)NOW);

	memset(&lk, 0, sizeof(lk));
	lk.alg = ACCORD_PT_LEGACY;
	lk.window = ACCORD_PT_WINDOW;
	memset(&ek, 0, sizeof(ek));
	ek.alg = ACCORD_PT_ENHANCED;
	ek.window = ACCORD_PT_WINDOW;
	if (accord_pt_key_from_hex("E001193519561977", ACCORD_PT_LEGACY, false, &lk,
				   &err) != 0 ||
	    accord_pt_key_from_hex("000102030405060708090A0B0C0D0E0F"
				   "101112131415161718191A1B1C1D1E1F"
				   "202122232425262728292A2B2C2D2E2F"
				   "303132333435363738393A3B3C3D3E3F",
				   ACCORD_PT_ENHANCED, false, &ek, &err) != 0) {
		fprintf(stderr, "ptbench: key: %s\n", err.msg);
		return 1;
	}
	run("legacy", "-", &lk, budget, 200000);
	ek.type = ACCORD_PT_UPPER;
	run("enhanced", "upper", &ek, budget, 50000);
	ek.type = ACCORD_PT_MIXED;
	run("enhanced", "mixed", &ek, budget, 50000);
	run_fetch(budget / 2);
	if (argc > 3)
		run_replay(budget, argv[3]);
	accord_pt_key_wipe(&lk);
	accord_pt_key_wipe(&ek);
	return 0;
}
