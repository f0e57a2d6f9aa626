/* SPDX-License-Identifier: MIT */
/*
 * Lookups with their answers checked, for the thread and fork tests:
 * no cmocka asserts (they run in worker threads and forked children),
 * just a result and a line on stderr for each failure.
 */
#ifndef ACCORD_TEST_NSSCHECK_H
#define ACCORD_TEST_NSSCHECK_H

#include <stdbool.h>
#include <sys/types.h>

#include <accord/state.h>

/* What every generation of the fixture agrees on. */
struct expect {
	uid_t alice_uid, bob_uid;
	gid_t alice_gid, bob_gid, dev, ops;
};

void expect_from_state(struct expect *e, const struct accord_state *st);

#define CHECK_KINDS 5
#define CHECK_KIND_INITGROUPS 4 /* the last kind, and the only one that
				   allocates (the GID array) */
/* One keyed lookup, chosen by kind % CHECK_KINDS (alice by name, bob by
 * UID, dev by name, ops by GID, initgroups of alice), through buf.
 * Returns true when the module answered SUCCESS with the right data. */
bool check_lookup(const struct expect *e, unsigned kind, char *buf,
		  size_t len);

/* One full setpwent/getpwent_r/endpwent pass.  The fixture's users are
 * alice, bob and X0000001..X<K> for one letter X; returns K (and X in
 * *letter) when the pass held exactly those, each once, or -1.  With
 * a letter per generation, a pass that mixed two fails. */
int check_pw_pass(char *buf, size_t len, char *letter);

/* Is `name` a user right now?  1 yes, 0 NOTFOUND, -1 anything else. */
int user_exists(const char *name);

#endif
