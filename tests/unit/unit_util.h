/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the cmocka unit tests of libaccord (tests/unit/).
 * Include after <cmocka.h>'s prerequisites; the helpers assert with cmocka,
 * so a broken precondition fails the calling test, not the process.
 */
#ifndef ACCORD_UNIT_UTIL_H
#define ACCORD_UNIT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <accord/registry.h>
#include <accord/snapshot.h>
#include <accord/state.h>

/* Fails the test with both strings when needle is not in haystack. */
#define assert_contains(haystack, needle)                                      \
	do {                                                                   \
		const char *h_ = (haystack), *n_ = (needle);                   \
		if (!h_ || !strstr(h_, n_))                                    \
			fail_msg("expected \"%s\" to contain \"%s\"",          \
				 h_ ? h_ : "(null)", n_);                      \
	} while (0)

#define assert_not_contains(haystack, needle)                                  \
	do {                                                                   \
		const char *h_ = (haystack), *n_ = (needle);                   \
		if (h_ && strstr(h_, n_))                                      \
			fail_msg("expected \"%s\" not to contain \"%s\"", h_,  \
				 n_);                                          \
	} while (0)

/* A new directory /tmp/accord-unit-XXXXXX (mode 0700, ours); malloc'd. */
char *unit_mkdtemp(void);
/* rm -rf, without following symlinks. */
void unit_rmtree(const char *path);
/* dir + "/" + rel, malloc'd. */
char *unit_path(const char *dir, const char *rel);
/* Writes a whole file (mode 0644), replacing it by rename. */
void unit_write_file(const char *path, const void *buf, size_t len);
/* Reads a whole file; malloc'd, NUL-terminated; NULL if it cannot. */
char *unit_read_file(const char *path, size_t *len);
bool unit_exists(const char *path);
/* Number of directory entries (without . and ..) whose name starts with
 * prefix ("" for all). */
size_t unit_count_entries(const char *dir, const char *prefix);

/* Ranges used by most tests: 1000-1999 for both. */
struct accord_state *unit_state(void);
/* A user add with only a name (personal group, defaults). */
int unit_add(struct accord_state *st, const char *name, struct accord_err *err);
/* A user add with an explicit uid. */
int unit_add_uid(struct accord_state *st, const char *name, uint32_t uid,
		 bool shared, struct accord_err *err);

/*
 * Everything observable about a state, as text: live and slot counts,
 * ranges and counters, and every record of the snapshot built from it
 * (read back through the reader, so the hash seed does not matter).  Two
 * states with equal fingerprints publish the same registry.
 */
char *unit_state_fingerprint(const struct accord_state *st);

/* Builds a snapshot image of st (asserts success). */
unsigned char *unit_build(const struct accord_state *st, uint64_t gen,
			  const unsigned char uuid[16], size_t *len);

/* Recomputes the body and header checksums of a (modified) image, so
 * that hostile contents reach the record parsers. */
void unit_fix_checksums(unsigned char *img, size_t len);

/*
 * Runs every lookup and iteration over s with keys taken from what the
 * iterations return plus fixed ones, checking the reader's contract: each
 * call returns 0, -ENOENT or -EBADMSG; a hit has the key asked for;
 * strings are NUL-terminated inside the image; iteration ends.  Crashes
 * and out-of-bounds reads are for ASan/valgrind to report.
 */
void unit_snapshot_exercise(const struct accord_snapshot *s);

/* The actor of registry tests: "tester" on "testhost". */
void unit_actor(struct accord_actor *a);

#endif
