/* SPDX-License-Identifier: MIT */
/* accordctl audit: reads pam_accord's JSON-lines audit file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/audit.h>

#include "cli.h"

struct audit_walk {
	const char *path;
	bool json;
	unsigned records, malformed;
};

/* A field of the record as text, "-" when absent or empty, so that the
 * columns of the plain output never collapse. */
static const char *field(json_object *rec, const char *key)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(rec, key, &v) || !v)
		return "-";
	s = json_object_get_string(v);
	return s && s[0] ? s : "-";
}

static int print_record(json_object *rec, const char *line, void *ctx)
{
	struct audit_walk *w = ctx;

	w->records++;
	if (w->json) {
		size_t n = strlen(line);

		/* the stored line as it is, one per line */
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		printf("%.*s\n", (int)n, line);
		return 0;
	}
	/* time result reason phase user (job_user -> current_user)
	 * service/appl method rhost tty generation host */
	printf("%s %s %s %s %s (%s -> %s) %s/%s %s %s %s gen=%s host=%s\n",
	       field(rec, "time"), field(rec, "result"), field(rec, "reason"),
	       field(rec, "phase"), field(rec, "user"), field(rec, "job_user"),
	       field(rec, "current_user"), field(rec, "service"), field(rec, "appl"),
	       field(rec, "method"), field(rec, "rhost"), field(rec, "tty"),
	       field(rec, "generation"), field(rec, "host"));
	return 0;
}

static void malformed(unsigned lineno, const char *why, void *ctx)
{
	struct audit_walk *w = ctx;

	w->malformed++;
	fprintf(stderr, "accordctl: %s:%u: %s (line skipped)\n", w->path, lineno, why);
}

int cmd_audit(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct accord_audit_filter f = { 0 };
	struct audit_walk w = { .json = c->json };
	struct accord_err e = { 0 };
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (o) {
		case 'u':
			if (!optarg[0])
				return usage_error("--user needs a user name");
			f.user = optarg;
			break;
		case 's':
			if (accord_parse_time(optarg, &f.since) < 0)
				return usage_error("--since takes a date and time in UTC "
						   "('2026-11-21', '2026-11-21 10:00', "
						   "'2026-11-21T10:00:00Z') or '@EPOCH', not '%s'",
						   optarg);
			break;
		case 'f':
			w.path = optarg;
			break;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("audit: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error("audit takes only options (extra: '%s')", argv[optind]);
	if (!w.path)
		w.path = c->cfg.audit_file;
	if (!w.path[0]) {
		accord_err_set(&e, -EINVAL, "no audit file: pam_accord writes one only when "
			       "'audit_file = PATH' is set in accord.conf (otherwise its records "
			       "go to syslog only); set it, or pass --file PATH");
		return fail(c, PH_OPEN, &e);
	}
	r = accord_audit_read(w.path, &f, print_record, malformed, &w, &e);
	if (r < 0) {
		if (!e.msg[0])
			accord_err_set(&e, r, "%s: %s", w.path, strerror(-r));
		return fail(c, PH_INPUT, &e);
	}
	if (w.malformed) {
		/* the good records were printed; the exit status still tells a
		 * script that the file holds something that is not a record.
		 * No JSON error object: stdout stays one record per line. */
		fprintf(stderr, "accordctl: %s: %u malformed line%s skipped\n", w.path,
			w.malformed, w.malformed == 1 ? "" : "s");
		return EX_DATAERR;
	}
	return 0;
}
