/* SPDX-License-Identifier: MIT */
/*
 * accordctl backup FILE [--include-secrets] | backup verify FILE, and
 * accordctl diff A [B]: a backup against the live registry or another
 * backup (include/accord/backup.h, include/accord/statediff.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/backup.h>
#include <accord/jsonfmt.h>
#include <accord/statediff.h>

#include "cli.h"

/* A backup file that cannot be used: damaged or tampered is bad data (65),
 * a missing file no input (66), an untrusted one no permission (77). */
static enum phase backup_phase(int r)
{
	return r == -EBADMSG ? PH_OP : PH_INPUT;
}

static json_object *info_json(const char *file, const struct accord_backup_info *in)
{
	json_object *o = json_object_new_object();
	char t[40];

	accord_time_iso(in->created, t, sizeof(t));
	json_object_object_add(o, "file", json_object_new_string(file));
	json_object_object_add(o, "uuid", json_object_new_string(in->uuid));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)in->generation));
	json_object_object_add(o, "created", json_object_new_string(t));
	json_object_object_add(o, "host", json_object_new_string(in->host));
	json_object_object_add(o, "secrets", json_object_new_boolean(in->has_secrets));
	json_object_object_add(o, "ptauth", json_object_new_boolean(in->has_ptauth));
	json_object_object_add(o, "snapshot_size", json_object_new_int64((int64_t)in->snapshot_size));
	json_object_object_add(o, "passwords", json_object_new_int64(in->npasswords));
	json_object_object_add(o, "ptkeys", json_object_new_int64(in->nptkeys));
	json_object_object_add(o, "ptauth_files", json_object_new_int64(in->nptauth));
	return o;
}

static void info_text(const char *file, const struct accord_backup_info *in)
{
	char t[40];

	accord_time_iso(in->created, t, sizeof(t));
	printf("file:        %s\n", file);
	printf("registry:    %s\n", in->uuid);
	printf("generation:  %" PRIu64 "\n", in->generation);
	printf("taken:       %s on %s\n", t, in->host);
	printf("snapshot:    %zu bytes\n", in->snapshot_size);
	if (in->has_secrets)
		printf("secrets:     %u password hashes, %u PassTicket keys\n", in->npasswords,
		       in->nptkeys);
	else
		printf("secrets:     not included\n");
	if (in->has_ptauth)
		printf("ptauth:      %u PassTicket permission files\n", in->nptauth);
	else
		printf("ptauth:      not included (the secrets store was not readable)\n");
}

static int backup_verify(struct cli *c, int argc, char **argv)
{
	struct accord_err e = { 0 };
	struct accord_backup *b;
	int r;

	if (argc != 2)
		return usage_error("backup verify takes one FILE");
	r = accord_backup_open(argv[1], &b, &e);
	if (r < 0)
		return fail(c, backup_phase(r), &e);
	if (c->json) {
		json_object *o = info_json(argv[1], accord_backup_info(b));

		json_object_object_add(o, "verified", json_object_new_boolean(1));
		print_json(o);
	} else {
		info_text(argv[1], accord_backup_info(b));
		printf("verified:    every checksum and the snapshot's deep check\n");
	}
	accord_backup_close(b);
	return 0;
}

int cmd_backup(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "include-secrets", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct accord_backup_info in;
	struct accord_err e = { 0 };
	bool secrets = false;
	int o, r;

	if (argc > 1 && !strcmp(argv[1], "verify"))
		return backup_verify(c, argc - 1, argv + 1);
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 's')
			secrets = true;
		else
			return usage_error("backup: unknown option '%s'", argv[optind - 1]);
	}
	if (optind >= argc)
		return usage_error("backup: the FILE to write is missing");
	if (optind != argc - 1)
		return usage_error("backup takes one FILE (extra: '%s')", argv[optind + 1]);
	r = open_registry(c);
	if (r)
		return r;
	r = accord_backup_write(c->reg, argv[optind], secrets, &in, &e);
	if (r < 0)
		return fail(c, r == -EBADMSG ? PH_OPEN : PH_INPUT, &e);
	if (c->json) {
		print_json(info_json(argv[optind], &in));
	} else {
		printf("Backup of generation %" PRIu64 " written to %s (%s)\n", in.generation,
		       argv[optind], secrets ? "with secrets, mode 0600" : "without secrets");
	}
	if (!in.has_ptauth)
		fprintf(stderr, "accordctl: warning: the secrets store is not readable (run as "
			"root): the backup holds no PassTicket permissions\n");
	return 0;
}

/* ---- diff -------------------------------------------------------------- */

struct side {
	struct accord_backup *b;
	struct accord_snapshot live;
	bool have_live;
	struct accord_state *st;
	char **ptauth;        /* NULL: unknown */
	size_t nptauth;
	char label[4200];
};

static void side_clear(struct side *s)
{
	accord_state_free(s->st);
	accord_strings_free(s->ptauth, s->nptauth);
	if (s->have_live)
		accord_snapshot_unmap(&s->live);
	accord_backup_close(s->b);
}

static int side_backup(struct cli *c, const char *file, struct side *s)
{
	struct accord_err e = { 0 };
	const struct accord_backup_info *in;
	int r;

	r = accord_backup_open(file, &s->b, &e);
	if (r < 0)
		return fail(c, backup_phase(r), &e);
	in = accord_backup_info(s->b);
	snprintf(s->label, sizeof(s->label), "%s (registry %s, generation %" PRIu64 ")", file,
		 in->uuid, in->generation);
	r = accord_state_from_snapshot(accord_backup_snapshot(s->b), &s->st, &e);
	if (r < 0)
		return fail(c, backup_phase(r), &e);
	if (in->has_ptauth) {
		r = accord_backup_ptauth(s->b, &s->ptauth, &s->nptauth, &e);
		if (r < 0)
			return fail(c, backup_phase(r), &e);
	}
	return 0;
}

static int side_live(struct cli *c, struct side *s)
{
	struct accord_err e = { 0 };
	char uuid[37];
	int r = open_registry(c);

	if (r)
		return r;
	r = accord_registry_current(c->reg, true, &s->live, &e);
	if (r < 0)
		return fail(c, PH_OPEN, &e);
	s->have_live = true;
	accord_registry_uuid(c->reg, uuid);
	snprintf(s->label, sizeof(s->label), "registry %s (%s, generation %" PRIu64 ")",
		 accord_registry_path(c->reg), uuid, s->live.generation);
	r = accord_state_from_snapshot(&s->live, &s->st, &e);
	if (r < 0)
		return fail(c, PH_OPEN, &e);
	r = accord_ptauth_strings(accord_registry_path(c->reg), &s->ptauth, &s->nptauth, &e);
	if (r == -EPERM || r == -EACCES) {
		s->ptauth = NULL;
		s->nptauth = 0;
	} else if (r < 0) {
		return fail(c, PH_OPEN, &e);
	}
	return 0;
}

int cmd_diff(struct cli *c, int argc, char **argv)
{
	struct side a = { 0 }, b = { 0 };
	struct accord_diff d = { 0 };
	struct accord_err e = { 0 };
	int r, i;

	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error("diff: unknown option '%s'", argv[i]);
	if (argc < 2 || argc > 3)
		return usage_error("diff takes a BACKUP and, optionally, a second BACKUP "
				   "(without it: the live registry)");
	r = side_backup(c, argv[1], &a);
	if (r == 0)
		r = argc == 3 ? side_backup(c, argv[2], &b) : side_live(c, &b);
	if (r)
		goto out;
	if (!a.ptauth || !b.ptauth)
		fprintf(stderr, "accordctl: note: PassTicket permissions are not compared (%s)\n",
			!a.ptauth ? "the first backup does not hold them"
				  : argc == 3 ? "the second backup does not hold them"
					      : "the secrets store is not readable: run as root");
	r = accord_state_diff(a.st, b.st, (const char *const *)a.ptauth, a.nptauth,
			      (const char *const *)b.ptauth, b.nptauth, &d, &e);
	if (r < 0) {
		r = fail(c, PH_OP, &e);
		goto out;
	}
	if (c->json)
		print_json(accord_diff_json(&d));
	else
		accord_diff_print(&d, a.label, b.label, stdout);
	accord_diff_free(&d);
	r = 0;
out:
	side_clear(&a);
	side_clear(&b);
	return r;
}
