/* SPDX-License-Identifier: MIT */
/*
 * Lookups from many threads while new generations are published: every
 * lookup must succeed with the right answer (the data they ask for is in
 * every generation), the first load must not fail for threads that race
 * it, and an enumeration pass must never mix two generations.
 *
 * Generation g names its synthetic users (and their personal groups)
 * with the letter 'a' + g, so a pass that mixed generations shows it.
 * One slow group enumeration stays pinned to the first generation for the
 * whole run, across two refresh points: the slot it holds must be
 * neither read as another generation nor rebuilt under it.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "nss_accord.h"

#include "fixture.h"
#include "nsscheck.h"
#include "testutil.h"

#define LOOKUP_THREADS 8
#define GENERATIONS 10
#define PUBLISH_EVERY_MS 240 /* 2.4 s: two refresh points */
#define BASE_USERS 30        /* generation g: BASE_USERS + g users */
#define SLOW_STEP_MS 110     /* 34 groups in generation 0: > 3.7 s */

static char *dir, *snap;
static struct expect want;
static unsigned char *gens[GENERATIONS + 1];
static size_t gen_len[GENERATIONS + 1];

static atomic_bool stop;
static atomic_ulong lookups, failures, passes, bad_passes;
static atomic_uint gens_seen; /* bit g set: a pass saw generation g */
static atomic_uint slow_groups, slow_bad;
static atomic_llong slow_ms; /* how long the slow pass held its pin */
static pthread_barrier_t start_line;

static int setup(void **state)
{
	struct accord_err err = { 0 };
	struct accord_state *st;
	unsigned g;

	(void)state;
	dir = test_tmpdir();
	if (!dir)
		return -1;
	snap = test_path(dir, "snapshot");
	for (g = 0; g <= GENERATIONS; g++) {
		struct fixture_opts o = { .users = BASE_USERS + g,
					  .generation = g + 1,
					  .user_prefix = (char)('a' + g) };

		if (fixture_build(&o, &gens[g], &gen_len[g], &err) < 0) {
			fprintf(stderr, "fixture: %s\n", err.msg);
			return -1;
		}
	}
	st = fixture_state(&(struct fixture_opts){ .users = BASE_USERS }, &err);
	if (!st)
		return -1;
	expect_from_state(&want, st);
	accord_state_free(st);
	setenv("ACCORD_SNAPSHOT", snap, 1);
	return fixture_publish(snap, gens[0], gen_len[0], 0644);
}

static int teardown(void **state)
{
	unsigned g;

	(void)state;
	test_rmtree(dir);
	free(dir);
	free(snap);
	for (g = 0; g <= GENERATIONS; g++)
		free(gens[g]);
	return 0;
}

static void *lookup_thread(void *arg)
{
	static _Thread_local char buf[65536];
	unsigned kind = (unsigned)(uintptr_t)arg;

	/* all threads make their first lookup at once: the first load races */
	pthread_barrier_wait(&start_line);
	while (!atomic_load(&stop)) {
		if (!check_lookup(&want, kind++, buf, sizeof(buf)))
			atomic_fetch_add(&failures, 1);
		atomic_fetch_add(&lookups, 1);
	}
	return NULL;
}

static void *enum_thread(void *arg)
{
	static char buf[65536];
	char letter;
	int k, g;

	(void)arg;
	pthread_barrier_wait(&start_line);
	while (!atomic_load(&stop)) {
		k = check_pw_pass(buf, sizeof(buf), &letter);
		g = letter - 'a';
		if (k < 0 || g < 0 || g > GENERATIONS || k != BASE_USERS + g)
			atomic_fetch_add(&bad_passes, 1);
		else
			atomic_fetch_or(&gens_seen, 1u << g);
		atomic_fetch_add(&passes, 1);
	}
	return NULL;
}

/* Personal groups of synthetic users carry their generation's letter.
 * Anything but generation 0's groups, in order, until the stop (or a
 * clean end) is a failure: a foreign name, a damaged read, an error. */
static void *slow_group_thread(void *arg)
{
	static char buf[65536];
	enum nss_status s;
	struct group gr;
	unsigned k;
	char x;
	int err = 0;
	int64_t t0;

	(void)arg;
	pthread_barrier_wait(&start_line);
	t0 = test_now_ms();
	if (_nss_accord_setgrent(0) != NSS_STATUS_SUCCESS)
		atomic_fetch_add(&slow_bad, 1);
	while (!atomic_load(&stop)) {
		s = _nss_accord_getgrent_r(&gr, buf, sizeof(buf), &err);
		if (s == NSS_STATUS_NOTFOUND && err == 0)
			break;
		if (s != NSS_STATUS_SUCCESS) {
			fprintf(stderr, "FAIL: slow pass: status %d errno %d\n",
				(int)s, err);
			atomic_fetch_add(&slow_bad, 1);
			break;
		}
		if (sscanf(gr.gr_name, "%c%7u", &x, &k) == 2 && x != 'a') {
			fprintf(stderr, "FAIL: slow pass of generation 0 "
					"returned %s\n", gr.gr_name);
			atomic_fetch_add(&slow_bad, 1);
		}
		atomic_fetch_add(&slow_groups, 1);
		test_sleep_ms(SLOW_STEP_MS);
	}
	_nss_accord_endgrent();
	atomic_store(&slow_ms, test_now_ms() - t0);
	return NULL;
}

static void test_lookups_during_swaps(void **state)
{
	pthread_t th[LOOKUP_THREADS + 2];
	unsigned i, g, seen;
	int64_t t0;

	(void)state;
	assert_int_equal(pthread_barrier_init(&start_line, NULL,
					      LOOKUP_THREADS + 3), 0);
	for (i = 0; i < LOOKUP_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, lookup_thread,
						(void *)(uintptr_t)i), 0);
	assert_int_equal(pthread_create(&th[i++], NULL, enum_thread, NULL), 0);
	assert_int_equal(pthread_create(&th[i++], NULL, slow_group_thread,
					NULL), 0);
	pthread_barrier_wait(&start_line);
	t0 = test_now_ms();
	for (g = 1; g <= GENERATIONS; g++) {
		test_sleep_ms(PUBLISH_EVERY_MS);
		assert_int_equal(fixture_publish(snap, gens[g], gen_len[g],
						 0644), 0);
	}
	atomic_store(&stop, true);
	for (i = 0; i < LOOKUP_THREADS + 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start_line);

	seen = atomic_load(&gens_seen);
	print_message("%lu lookups, %lu passes in %lld ms, generations seen "
		      "by passes 0x%x; slow pass: %u groups in %lld ms\n",
		      atomic_load(&lookups), atomic_load(&passes),
		      (long long)(test_now_ms() - t0), seen,
		      atomic_load(&slow_groups), atomic_load(&slow_ms));
	assert_int_equal(atomic_load(&failures), 0);
	assert_int_equal(atomic_load(&bad_passes), 0);
	assert_int_equal(atomic_load(&slow_bad), 0);
	assert_true(atomic_load(&lookups) > LOOKUP_THREADS);
	assert_true(atomic_load(&passes) > 0);
	/* the slow pass really did outlive two refresh points */
	assert_true(atomic_load(&slow_ms) > 2100);
	/* at least one swap happened while the threads ran */
	assert_true(seen & (seen - 1));

	/* and the last generation is served once the pin is gone */
	test_sleep_ms(TEST_REFRESH_WAIT_MS);
	assert_int_equal(user_exists("k0000040"), 1);
	assert_int_equal(user_exists("k0000041"), 0);
	assert_int_equal(user_exists("a0000001"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups_during_swaps),
	};

	return cmocka_run_group_tests_name("nss_threads", tests, setup,
					   teardown);
}
