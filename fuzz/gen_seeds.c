/* SPDX-License-Identifier: MIT */
/*
 * gen_seeds: writes the binary seeds of fuzz/corpus/snapshot/ (run once;
 * the files are committed).  Each seed is a small snapshot built through
 * the state API, so it has every feature the reader must handle: members,
 * supplementary groups, tombstones, status flags, shared IDs, user dates,
 * applications and swap rules; plus a truncated copy, a copy with a
 * damaged body and a garbage file.  Each run draws new hash seeds: to add
 * a seed, run it into a scratch directory and copy only the new file.
 *
 *   gen_seeds DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/snapshot.h>
#include <accord/state.h>

#define SEED_TIME 1700000000
#define SEED_MAX (16u * 1024u)

static const unsigned char uuid[16] = { 0x5e, 0xed, 0xac, 0xc0, 0x2d, 1, 2, 3,
					4, 5, 6, 7, 8, 9, 10, 11 };
static const struct accord_defaults def = { "/home", "/bin/sh" };

static void die(const char *what, const struct accord_err *err)
{
	fprintf(stderr, "gen_seeds: %s: %s\n", what, err ? err->msg : strerror(errno));
	exit(1);
}

static void write_seed(const char *dir, const char *name, const void *buf,
		       size_t len)
{
	char path[4096];
	FILE *f;

	if (len > SEED_MAX) {
		fprintf(stderr, "gen_seeds: %s is %zu bytes (max %u)\n", name, len, SEED_MAX);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die(path, NULL);
	printf("%s %zu\n", path, len);
}

static void user(struct accord_state *st, const char *name, const char *group,
		 const char *groups, const char *gecos)
{
	struct accord_err err = { 0 };
	struct accord_user_spec spec = { .name = name, .group = group,
					 .groups = groups, .gecos = gecos };

	if (accord_user_add(st, &spec, &def, &err) < 0)
		die(name, &err);
}

static void group(struct accord_state *st, const char *name, long gid,
		  bool shared)
{
	struct accord_err err = { 0 };

	if (accord_group_add(st, name, gid >= 0, gid >= 0 ? (uint32_t)gid : 0,
			     shared, &err) < 0)
		die(name, &err);
}

/* Builds st, checks that the reader accepts it, writes it. */
static unsigned char *emit(const char *dir, const char *name,
			   const struct accord_state *st, uint64_t gen,
			   size_t *lenp)
{
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	accord_snap_why why = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;

	if (accord_snapshot_build(st, gen, uuid, SEED_TIME, &buf, &len, &err) < 0)
		die(name, &err);
	if (accord_snapshot_open_mem(&s, buf, len, &why) < 0 ||
	    accord_snapshot_verify(&s, &why) < 0) {
		fprintf(stderr, "gen_seeds: %s does not verify: %s\n", name, why);
		exit(1);
	}
	write_seed(dir, name, buf, len);
	if (lenp)
		*lenp = len;
	return buf;
}

int main(int argc, char **argv)
{
	static const struct accord_range ids = { 1000, 60000 };
	struct accord_err err = { 0 };
	struct accord_state *st;
	unsigned char *buf, garbage[512];
	size_t len, i;
	uint32_t x = 0x2545f491u;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}

	/* 1: empty registry */
	st = accord_state_new(&ids, &ids);
	if (!st)
		die("state", NULL);
	accord_state_set_actor(st, SEED_TIME, "root");
	free(emit(argv[1], "empty", st, 1, NULL));

	/* 2: two groups, two users with supplementary groups */
	group(st, "dev", -1, false);
	group(st, "ops", -1, false);
	user(st, "alice", NULL, "dev,ops", "Alice Example");
	user(st, "bob", "dev", "", "Bob Example,,,");
	free(emit(argv[1], "small", st, 2, NULL));

	/* 3: status flags, a revoke reason, no-password, protected */
	user(st, "carol", NULL, "ops", "");
	user(st, "dave", "ops", "dev", "Dave");
	user(st, "svc_backup", NULL, "", "backup service");
	if (accord_user_status_op(st, "carol", ACCORD_OP_DISABLE, NULL, &err) < 0 ||
	    accord_user_status_op(st, "dave", ACCORD_OP_REVOKE, "too many failures", &err) < 0 ||
	    accord_user_set_flag(st, "svc_backup", ACCORD_F_NO_PASSWORD, true, &err) < 0 ||
	    accord_user_set_flag(st, "svc_backup", ACCORD_F_PROTECTED, true, &err) < 0)
		die("flags", &err);
	free(emit(argv[1], "flags", st, 3, NULL));

	/* 4: tombstones of users and groups, and a shared GID */
	if (accord_user_del(st, "carol", &err) < 0 ||
	    accord_user_del(st, "dave", &err) < 0 ||
	    accord_group_del(st, "ops", &err) < 0)
		die("delete", &err);
	group(st, "dev2", (long)accord_state_group(st, "dev")->gid, true);
	if (accord_group_adduser(st, "dev2", "alice", &err) < 0)
		die("adduser", &err);
	buf = emit(argv[1], "tombstones", st, 4, &len);

	/* 5: the same, cut short (the header says more bytes than there are) */
	write_seed(argv[1], "truncated", buf, len / 2 + 3);

	/* 6: the same, with a damaged body (header checks pass, the deep
	 * check and the record parsers see the damage) */
	for (i = len / 3; i < len / 3 + 24 && i < len; i++)
		buf[i] ^= 0xa5;
	write_seed(argv[1], "damaged-body", buf, len);
	free(buf);

	/* 7: a bigger group (collisions in the indexes) */
	group(st, "big", -1, false);
	for (i = 0; i < 40; i++) {
		char name[16];

		snprintf(name, sizeof(name), "u%03zu", i);
		user(st, name, "big", i % 3 ? "dev" : "", "");
	}
	free(emit(argv[1], "members", st, 5, NULL));
	accord_state_free(st);

	/* 8: garbage that starts with the magic, and pure garbage */
	for (i = 0; i < sizeof(garbage); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		garbage[i] = (unsigned char)x;
	}
	write_seed(argv[1], "garbage", garbage, sizeof(garbage));
	memcpy(garbage, "ACCSNAP", 8);
	write_seed(argv[1], "garbage-magic", garbage, sizeof(garbage));

	/* 9: applications, swap rules and user dates (the optional sections) */
	st = accord_state_new(&ids, &ids);
	if (!st)
		die("state", NULL);
	accord_state_set_actor(st, SEED_TIME, "root");
	group(st, "dev", -1, false);
	group(st, "ops", -1, false);
	group(st, "wheel", -1, false);
	user(st, "alice", NULL, "dev,ops", "Alice Example");
	user(st, "bob", "dev", "wheel", "");
	{
		struct accord_user_spec d = { .name = "alice", .has_revoke_date = true,
					      .revoke_date = SEED_TIME + 86400,
					      .has_resume_date = true,
					      .resume_date = SEED_TIME + 2 * 86400 };

		if (accord_user_mod(st, &d, &err) < 0)
			die("dates", &err);
	}
	if (accord_appl_add(st, "sshd", ACCORD_ACCESS_NONE, &err) < 0 ||
	    accord_appl_add(st, "login", ACCORD_ACCESS_READ, &err) < 0 ||
	    accord_appl_add(st, "su", ACCORD_ACCESS_NONE, &err) < 0 ||
	    accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "dev", ACCORD_ACCESS_READ, &err) < 0 ||
	    accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "bob", ACCORD_ACCESS_NONE, &err) < 0 ||
	    accord_appl_permit(st, "su", ACCORD_ACE_USER, "alice", ACCORD_ACCESS_READ, &err) < 0 ||
	    accord_swap_set(st, ACCORD_SWAP_PERMIT, "wheel", "root", &err) < 0 ||
	    accord_swap_set(st, ACCORD_SWAP_DENY, "dev", "alice", &err) < 0 ||
	    accord_swap_set(st, ACCORD_SWAP_PERMIT, "ops", "bob", &err) < 0)
		die("applications", &err);
	free(emit(argv[1], "appls", st, 6, NULL));
	accord_state_free(st);
	return 0;
}
