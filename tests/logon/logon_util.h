/* SPDX-License-Identifier: MIT */
/* Helpers of the logon tests (tests/logon/): temporary registries and
 * snapshots built in memory.  They assert with cmocka. */
#ifndef ACCORD_LOGON_UTIL_H
#define ACCORD_LOGON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <accord/logon.h>
#include <accord/registry.h>
#include <accord/snapshot.h>
#include <accord/state.h>

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

/* /tmp/accord-logon-XXXXXX, 0700; malloc'd. */
char *lt_mkdtemp(void);
/* rm -rf without following links. */
void lt_rmtree(const char *path);
/* printf into a malloc'd string. */
char *lt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes a whole file with this mode (exactly, whatever the umask). */
void lt_write_file(const char *path, const void *buf, size_t len, mode_t mode);
/* Reads a whole file, NUL-terminated; NULL if it cannot. */
char *lt_read_file(const char *path, size_t *len);

/* A state with ranges 1000-1999 and the clock at `now`. */
struct accord_state *lt_state(int64_t now);
/* user add NAME (personal group) with optional supplementary groups
 * ("a,b" or NULL); asserts success. */
void lt_user(struct accord_state *st, const char *name, const char *groups);
void lt_group(struct accord_state *st, const char *name);

/* A snapshot image of st, opened in *snap; free the returned buffer. */
unsigned char *lt_snapshot(const struct accord_state *st, uint64_t gen,
			   struct accord_snapshot *snap);

#endif
