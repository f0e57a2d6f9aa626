/* SPDX-License-Identifier: MIT */
/*
 * First, threads that race the very first load of a fresh process must
 * all get an answer (not UNAVAIL because another thread is loading).
 *
 * Then fork() while other threads are inside lookups and an enumeration is
 * open.  In each child: lookups work at once (no lock or count inherited
 * from a thread that does not exist there), the inherited enumeration
 * goes on to its end, and two later generations are picked up, which
 * needs the refresh flag and both slots' counts to be right in the child.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "nss_accord.h"
#include "nsscheck.h"
#include "testutil.h"

#define LOOKUP_THREADS 4
#define CHILDREN 4
#define CHILD_ALARM_S 10
#define NEW_USER_DEADLINE_MS 3000

static char *dir, *snap;
static struct expect want;
static unsigned char *gen[3];
static size_t gen_len[3];
static unsigned gen1_users;
static const char *const newcomer[3] = { NULL, "carol", "dave" };

static atomic_bool stop;
static atomic_ulong failures;

static int setup(void **state)
{
	struct accord_err err = { 0 };
	struct accord_state *st;
	int i;

	(void)state;
	dir = test_tmpdir();
	if (!dir)
		return -1;
	snap = test_path(dir, "snapshot");
	for (i = 0; i < 3; i++) {
		struct fixture_opts o = { .users = 5, .generation = i + 1,
					  .extra_user = newcomer[i] };

		if (fixture_build(&o, &gen[i], &gen_len[i], &err) < 0) {
			fprintf(stderr, "fixture: %s\n", err.msg);
			return -1;
		}
	}
	st = fixture_state(&(struct fixture_opts){ .users = 5 }, &err);
	if (!st)
		return -1;
	expect_from_state(&want, st);
	gen1_users = (unsigned)accord_state_user_count(st);
	accord_state_free(st);
	setenv("ACCORD_SNAPSHOT", snap, 1);
	return fixture_publish(snap, gen[0], gen_len[0], 0644);
}

static int teardown(void **state)
{
	int i;

	(void)state;
	test_rmtree(dir);
	free(dir);
	free(snap);
	for (i = 0; i < 3; i++)
		free(gen[i]);
	return 0;
}

/*
 * The parent's threads leave out initgroups, the one lookup that
 * allocates: a block in flight in a thread that does not exist in the
 * child would show up there as a leak under valgrind.  The children
 * check initgroups themselves.
 */
static void *lookup_thread(void *arg)
{
	static _Thread_local char buf[16384];
	unsigned kind = (unsigned)(uintptr_t)arg;

	while (!atomic_load(&stop))
		if (!check_lookup(&want, kind++ % CHECK_KIND_INITGROUPS, buf,
				  sizeof(buf)))
			atomic_fetch_add(&failures, 1);
	return NULL;
}

#define RACE_CHILDREN 96
#define RACE_WAVE 8
#define RACE_THREADS 8

static pthread_barrier_t race_line;
static atomic_uint race_failures;

static void *race_thread(void *arg)
{
	static _Thread_local char buf[4096];

	(void)arg;
	pthread_barrier_wait(&race_line);
	if (!check_lookup(&want, 0, buf, sizeof(buf)))
		atomic_fetch_add(&race_failures, 1);
	return NULL;
}

/* In a child that never used the module: RACE_THREADS first lookups at
 * once.  Exit status: how many failed. */
static void race_child(void)
{
	pthread_t th[RACE_THREADS];
	int i;

	alarm(CHILD_ALARM_S);
	if (pthread_barrier_init(&race_line, NULL, RACE_THREADS) != 0)
		_exit(100);
	for (i = 0; i < RACE_THREADS; i++)
		if (pthread_create(&th[i], NULL, race_thread, NULL) != 0)
			_exit(101);
	for (i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	_exit((int)atomic_load(&race_failures));
}

/* valgrind runs threads one at a time (the race is barely reachable)
 * and checks every child for leaks at exit (slow): two children there. */
static bool under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "vgpreload");
}

/* Must run before anything in this process calls the module.  The race
 * is hit in a fraction of the children, so there are many, in waves. */
static void test_first_load_race(void **state)
{
	pid_t pids[RACE_WAVE];
	int status, wave, waves, per_wave, i;

	(void)state;
	waves = under_valgrind() ? 1 : RACE_CHILDREN / RACE_WAVE;
	per_wave = under_valgrind() ? 2 : RACE_WAVE;
	for (wave = 0; wave < waves; wave++) {
		for (i = 0; i < per_wave; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0)
				race_child();
		}
		for (i = 0; i < per_wave; i++) {
			assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				fail_msg("race child %d: %s %d",
					 wave * RACE_WAVE + i,
					 WIFEXITED(status) ? "failures"
							   : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status)
							   : WTERMSIG(status));
		}
	}
}

static bool read_byte(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1;
}

static bool appears(const char *name)
{
	int64_t deadline = test_now_ms() + NEW_USER_DEADLINE_MS;

	do {
		if (user_exists(name) == 1)
			return true;
		test_sleep_ms(50);
	} while (test_now_ms() < deadline);
	return false;
}

/* Exit codes say which step failed. */
static void child(int go1, int ack, int go2)
{
	static char buf[16384];
	struct passwd pw;
	unsigned kind, rest = 0;
	char letter;
	int err = 0;

	/* a deadlock kills the child, and the parent sees the signal */
	alarm(CHILD_ALARM_S);
	for (kind = 0; kind < CHECK_KINDS; kind++)
		if (!check_lookup(&want, kind, buf, sizeof(buf)))
			_exit(10 + (int)kind);
	/* the parent had taken one entry before fork */
	while (_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err) ==
	       NSS_STATUS_SUCCESS)
		rest++;
	if (err != 0 || rest != gen1_users - 1)
		_exit(20);
	_nss_accord_endpwent();
	if (check_pw_pass(buf, sizeof(buf), &letter) != 5 || letter != 'u')
		_exit(21);

	if (!read_byte(go1))
		_exit(30);
	if (!appears(newcomer[1]))
		_exit(31);
	if (write(ack, "a", 1) != 1)
		_exit(32);
	if (!read_byte(go2))
		_exit(40);
	if (!appears(newcomer[2]) || user_exists(newcomer[1]) != 0)
		_exit(41);
	_exit(0);
}

static void write_n(int fd, unsigned n)
{
	while (n--)
		assert_int_equal(write(fd, "g", 1), 1);
}

static void test_fork_during_lookups(void **state)
{
	static char buf[16384];
	pthread_t th[LOOKUP_THREADS];
	pid_t pids[CHILDREN];
	int go1[2], ack[2], go2[2], status, i;
	unsigned acks;
	struct passwd pw;
	int err = 0;

	(void)state;
	assert_int_equal(pipe(go1), 0);
	assert_int_equal(pipe(ack), 0);
	assert_int_equal(pipe(go2), 0);
	assert_int_equal(user_exists("alice"), 1);
	for (i = 0; i < LOOKUP_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, lookup_thread,
						(void *)(uintptr_t)i), 0);
	test_sleep_ms(50);

	/* an enumeration is open (its generation pinned) across the forks */
	assert_int_equal(_nss_accord_setpwent(0), NSS_STATUS_SUCCESS);
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	for (i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(go1[1]);
			close(ack[0]);
			close(go2[1]);
			child(go1[0], ack[1], go2[0]);
		}
		test_sleep_ms(7);
	}
	assert_int_equal(_nss_accord_endpwent(), NSS_STATUS_SUCCESS);
	close(go1[0]);
	close(ack[1]);
	close(go2[0]);

	assert_int_equal(fixture_publish(snap, gen[1], gen_len[1], 0644), 0);
	write_n(go1[1], CHILDREN);
	for (acks = 0; acks < CHILDREN && read_byte(ack[0]); acks++)
		;
	assert_int_equal(fixture_publish(snap, gen[2], gen_len[2], 0644), 0);
	write_n(go2[1], CHILDREN);
	close(go1[1]);
	close(go2[1]);
	close(ack[0]);

	for (i = 0; i < CHILDREN; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d: %s %d", i,
				 WIFEXITED(status) ? "exit" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status)
						   : WTERMSIG(status));
	}
	assert_int_equal(acks, CHILDREN);
	atomic_store(&stop, true);
	for (i = 0; i < LOOKUP_THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&failures), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_load_race),
		cmocka_unit_test(test_fork_during_lookups),
	};

	return cmocka_run_group_tests_name("nss_fork", tests, setup, teardown);
}
