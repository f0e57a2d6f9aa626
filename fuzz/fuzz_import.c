/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the passwd(5)/group(5) import parser (common/import.c)
 * and the state operations it drives.
 *
 * The input is split at its first NUL byte (or, without one, in half)
 * into a passwd text and a group text, imported twice into a fresh state
 * (ranges 1000-2000000): as given, and with shared IDs allowed.  Whatever
 * the bytes, the import
 * either refuses with a message or succeeds; and the state it leaves
 * behind must always build a snapshot that the reader accepts and that
 * passes the deep check: a successful import must never publish a
 * snapshot the NSS module would refuse.  Each state operation leaves the
 * state as it was when it refuses, so the same holds after a refused
 * import (the caller aborts that transaction, but the state must still be
 * coherent), and we check it too.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/import.h>
#include <accord/snapshot.h>
#include <accord/state.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_snapshot(const struct accord_state *st)
{
	static const unsigned char uuid[16] = { 0xac, 0xc0, 0x2d };
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	struct accord_snap_user su;
	struct accord_snap_group sg;
	accord_snap_why why = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, i;

	if (accord_snapshot_build(st, 2, uuid, 1700000000, &buf, &len, &err) != 0) {
		/* Only running out of memory is an excuse. */
		if (err.code != -ENOMEM)
			__builtin_trap();
		return;
	}
	if (accord_snapshot_open_mem(&s, buf, len, &why) != 0)
		__builtin_trap();
	if (accord_snapshot_verify(&s, &why) != 0)
		__builtin_trap();
	if (s.user_count != accord_state_user_count(st) ||
	    s.group_count != accord_state_group_count(st) ||
	    s.tombstone_count != accord_state_tomb_count(st))
		__builtin_trap();
	/* every live entry of the state is served by the snapshot */
	for (i = 0; i < accord_state_user_slots(st); i++) {
		const struct accord_user *u = accord_state_user_at(st, i);

		if (!u->live)
			continue;
		if (accord_snap_user_by_name(&s, u->name, &su) != 0 ||
		    su.uid != u->uid || su.gid != u->gid)
			__builtin_trap();
	}
	for (i = 0; i < accord_state_group_slots(st); i++) {
		const struct accord_group *g = accord_state_group_at(st, i);

		if (!g->live)
			continue;
		if (accord_snap_group_by_name(&s, g->name, &sg) != 0 ||
		    sg.gid != g->gid || sg.nmembers != g->nmembers)
			__builtin_trap();
	}
	free(buf);
}

static void run(const char *passwd, size_t plen, const char *group,
		size_t glen, bool shared)
{
	static const struct accord_range ids = { 1000, 2000000 };
	struct accord_import_stats stats;
	struct accord_err err = { 0 };
	struct accord_state *st = accord_state_new(&ids, &ids);
	int r;

	if (!st)
		return;
	accord_state_set_actor(st, 1700000000, "fuzz");
	r = accord_import(st, shared, passwd, plen, "passwd", group, glen, "group",
			  &stats, NULL, NULL, &err);
#ifdef FUZZ_VERBOSE
	fprintf(stderr, "import%s: %d %s (users %zu, groups %zu, memberships %zu)\n",
		shared ? " --shared" : "", r, err.msg, stats.users, stats.groups,
		stats.memberships);
#endif
	if (r == 0) {
		if (stats.users != accord_state_user_count(st) ||
		    stats.groups > accord_state_group_count(st))
			__builtin_trap();
	} else {
		/* a refusal names what was wrong */
		if (r != err.code || err.msg[0] == '\0' ||
		    !memchr(err.msg, '\0', sizeof(err.msg)))
			__builtin_trap();
	}
	check_snapshot(st);
	accord_state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = size ? memchr(data, '\0', size) : NULL;
	size_t plen, goff, glen;
	char *passwd, *group;

	if (nul) {
		plen = (size_t)(nul - data);
		goff = plen + 1;
	} else {
		plen = size / 2;
		goff = plen;
	}
	glen = size - goff;
	/* exact-size copies, so ASan sees a read one byte past either text */
	passwd = malloc(plen ? plen : 1);
	group = malloc(glen ? glen : 1);
	if (passwd && group) {
		memcpy(passwd, data, plen);
		memcpy(group, data + goff, glen);
		/* as given, and as `accordctl import --shared` (IDs outside the
		 * range or shared: the snapshot must still be valid) */
		run(passwd, plen, group, glen, false);
		run(passwd, plen, group, glen, true);
	}
	free(passwd);
	free(group);
	return 0;
}
