/* SPDX-License-Identifier: MIT */
/*
 * keycost.c - what nssbench's timed region costs without any lookup.
 *
 * nssbench times one_lookup() as a whole, so a "hit" includes picking a
 * random user (xorshift + modulo) and a "miss" additionally formats the
 * absent key with snprintf("zzmiss%09lu").  For modules that answer in
 * ~100 ns this harness cost is a visible part of the figure; this program
 * measures it the same way nssbench does (clock_gettime around each
 * iteration, median of 20,000) so the miss/hit comparison can be read
 * correctly.  Prints: KEYCOST hit_p50_us=... miss_p50_us=...
 *
 * keycost -m FILE: the memory floor of a lookup in FILE (a snapshot): maps
 * it read-only, touches every page once (no page faults later), then times
 * single 8-byte reads at random offsets, each depending on the previous one
 * (no overlap), with the same clock_gettime pair around each as nssbench.
 * A hash lookup that hits reads an index slot and then a record, so it pays
 * about two or three of these.  Prints: MEMLAT bytes=... read_p50_us=...
 *
 * Build: cc -O2 -o keycost keycost.c
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { K = 20000, ROUNDS = 5 };

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static volatile uintptr_t sink;

static uint64_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_of(int miss, const char **names, size_t n)
{
	static uint64_t t[K];
	double p[ROUNDS];

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < K; i++) {
			uint64_t a = now_ns();
			if (miss) {
				char m[32];
				snprintf(m, sizeof(m), "zzmiss%09lu",
					 (unsigned long)(xrand() % 1000000000ul));
				sink += (uintptr_t)m[7];
			} else {
				sink += (uintptr_t)names[xrand() % n];
			}
			t[i] = now_ns() - a;
		}
		qsort(t, K, sizeof(t[0]), cmp_u64);
		p[r] = t[(K - 1) / 2] / 1e3;
	}
	for (int i = 1; i < ROUNDS; i++) /* insertion sort, 5 values */
		for (int j = i; j > 0 && p[j - 1] > p[j]; j--) {
			double x = p[j];
			p[j] = p[j - 1];
			p[j - 1] = x;
		}
	return p[ROUNDS / 2];
}

static int memlat(const char *path)
{
	static uint64_t t[K];
	double p[ROUNDS];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 4096) {
		perror(path);
		return 1;
	}
	size_t len = (size_t)st.st_size;
	const unsigned char *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	uintptr_t acc = 0;
	for (size_t off = 0; off < len; off += 4096)
		acc += m[off];
	uint64_t dep = acc & 1;
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < K; i++) {
			size_t off = (size_t)((xrand() ^ dep) % (len - 8)) & ~(size_t)7;
			uint64_t a = now_ns();
			uint64_t v;
			memcpy(&v, m + off, sizeof(v));
			dep = v & 1; /* the next address depends on this read */
			t[i] = now_ns() - a;
		}
		qsort(t, K, sizeof(t[0]), cmp_u64);
		p[r] = t[(K - 1) / 2] / 1e3;
	}
	for (int i = 1; i < ROUNDS; i++)
		for (int j = i; j > 0 && p[j - 1] > p[j]; j--) {
			double x = p[j];
			p[j] = p[j - 1];
			p[j - 1] = x;
		}
	sink += dep;
	printf("MEMLAT bytes=%zu read_p50_us=%.3f\n", len, p[ROUNDS / 2]);
	munmap((void *)(uintptr_t)m, len);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *names[1000];

	if (argc == 3 && !strcmp(argv[1], "-m"))
		return memlat(argv[2]);

	for (int i = 0; i < 1000; i++)
		names[i] = "u0000000";
	double hit = median_of(0, names, 1000), miss = median_of(1, names, 1000);
	printf("KEYCOST hit_p50_us=%.3f miss_p50_us=%.3f\n", hit, miss);
	return 0;
}
