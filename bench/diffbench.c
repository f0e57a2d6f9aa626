/* SPDX-License-Identifier: MIT */
/*
 * bench/diffbench: accord_state_diff() of two 100,000-profile states (B =
 * A with 1 % of the profiles changed, 0.5 % deleted, 0.5 % added), and,
 * with a directory argument, writes both as backups there (A.bak, B.bak)
 * for timing `accordctl diff A.bak B.bak` (bench/run.sh's `diff` part).
 *
 *   diffbench [N] [DIR]
 *
 * Result line: "diff users=N changes=C load_ms=L diff_ms=D (best of 5)".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <accord/state.h>
#include <accord/statediff.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static struct accord_state *load(unsigned char *buf, size_t len)
{
	struct accord_err e = { 0 };
	struct accord_snapshot s;
	struct accord_state *st = NULL;
	accord_snap_why why;

	if (accord_snapshot_open_mem(&s, buf, len, &why) < 0 ||
	    accord_state_from_snapshot(&s, &st, &e) < 0) {
		fprintf(stderr, "diffbench: cannot load: %s\n", e.msg);
		exit(1);
	}
	return st;
}

int main(int argc, char **argv)
{
	const struct accord_range r = { 10000, 2000000000 };
	const struct accord_defaults defs = { "/home", "/bin/bash" };
	const unsigned char uuid[16] = { 6 };
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	struct accord_state *a = accord_state_new(&r, &r), *b, *la, *lb;
	struct accord_err e = { 0 };
	unsigned char *ia, *ib;
	size_t lena, lenb, changes = 0;
	double t0, best = 1e9, load_ms;
	char name[64];
	unsigned i;
	int k;

	accord_state_set_actor(a, 1700000000, "bench");
	for (i = 0; i < n; i++) {
		struct accord_user_spec u = { .name = name };

		snprintf(name, sizeof(name), "u%07u", i);
		if (accord_user_add(a, &u, &defs, &e) < 0) {
			fprintf(stderr, "diffbench: %s\n", e.msg);
			return 1;
		}
	}
	if (accord_snapshot_build(a, 2, uuid, 1700000000, &ia, &lena, &e) < 0)
		return 1;
	b = load(ia, lena);
	accord_state_set_actor(b, 1700001000, "bench");
	for (i = 0; i < n; i += 100) {
		struct accord_user_spec m = { .name = name, .shell = "/bin/sh" };

		snprintf(name, sizeof(name), "u%07u", i);
		accord_user_mod(b, &m, &e);
		snprintf(name, sizeof(name), "u%07u", i + 1);
		accord_user_del(b, name, &e);
		snprintf(name, sizeof(name), "n%07u", i);
		{
			struct accord_user_spec u = { .name = name };

			accord_user_add(b, &u, &defs, &e);
		}
	}
	if (accord_snapshot_build(b, 3, uuid, 1700001000, &ib, &lenb, &e) < 0)
		return 1;
	t0 = now_ms();
	la = load(ia, lena);
	lb = load(ib, lenb);
	load_ms = now_ms() - t0;
	for (k = 0; k < 5; k++) {
		struct accord_diff d;
		double t;

		t0 = now_ms();
		if (accord_state_diff(la, lb, NULL, 0, NULL, 0, &d, &e) < 0)
			return 1;
		t = now_ms() - t0;
		if (t < best)
			best = t;
		changes = d.n;
		accord_diff_free(&d);
	}
	printf("diff users=%u changes=%zu load_ms=%.1f diff_ms=%.1f (best of 5)\n", n, changes,
	       load_ms, best);
	if (argc > 2) {
		/* the two snapshots as registries' generations: run.sh makes
		 * backups of them with accordctl */
		FILE *f;

		snprintf(name, sizeof(name), "%s/A.snap", argv[2]);
		f = fopen(name, "wb");
		if (!f || fwrite(ia, 1, lena, f) != lena || fclose(f))
			return 1;
		snprintf(name, sizeof(name), "%s/B.snap", argv[2]);
		f = fopen(name, "wb");
		if (!f || fwrite(ib, 1, lenb, f) != lenb || fclose(f))
			return 1;
	}
	accord_state_free(a);
	accord_state_free(b);
	accord_state_free(la);
	accord_state_free(lb);
	free(ia);
	free(ib);
	return 0;
}
