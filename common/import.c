/* SPDX-License-Identifier: MIT */
#include <accord/import.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileutil.h"

int accord_import_read(const char *path, char **buf, size_t *len)
{
	return fu_read_file(path, ACCORD_IMPORT_FILE_MAX, buf, len);
}

/* Splits one line into exactly n ':'-separated fields (in place). */
static int split(char *line, char **f, int n)
{
	int i;

	for (i = 0; i < n - 1; i++) {
		char *c = strchr(line, ':');

		if (!c)
			return -1;
		*c = '\0';
		f[i] = line;
		line = c + 1;
	}
	if (strchr(line, ':'))
		return -1;
	f[n - 1] = line;
	return 0;
}

struct lines {
	const char *p, *end, *name;
	size_t no;
	char buf[ACCORD_IMPORT_LINE_MAX + 1];
};

/* 1 and l->buf holds the next content line; 0 at the end; <0 error. */
static int next_line(struct lines *l, struct accord_err *err)
{
	while (l->p < l->end) {
		const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
		size_t n = nl ? (size_t)(nl - l->p) : (size_t)(l->end - l->p);

		l->no++;
		if (n > ACCORD_IMPORT_LINE_MAX)
			return accord_err_set(err, -EINVAL, "%s:%zu: line longer than %d bytes",
					      l->name, l->no, ACCORD_IMPORT_LINE_MAX);
		memcpy(l->buf, l->p, n);
		l->buf[n] = '\0';
		l->p = nl ? nl + 1 : l->end;
		/* n is 0 for an empty line (nl == l->p); cppcheck misses that */
		// cppcheck-suppress knownConditionTrueFalse
		if (n && l->buf[n - 1] == '\r')
			l->buf[--n] = '\0';
		if (memchr(l->buf, '\0', n))
			return accord_err_set(err, -EINVAL, "%s:%zu: NUL byte in line", l->name,
					      l->no);
		if (n == 0 || l->buf[0] == '#')
			continue;
		if (l->buf[0] == '+' || l->buf[0] == '-')
			return accord_err_set(err, -EINVAL,
					      "%s:%zu: NIS compat entries (+/-) cannot be imported",
					      l->name, l->no);
		return 1;
	}
	return 0;
}

static size_t count_lines(const char *p, size_t len)
{
	size_t n = 0;
	const char *end = p + len;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n + 1;
}

static int line_err(struct accord_err *err, const struct lines *l, int r)
{
	return accord_err_prefix(err, r, "%s:%zu", l->name, l->no);
}

int accord_import(struct accord_state *st, bool shared,
		  const char *passwd, size_t passwd_len, const char *passwd_name,
		  const char *group, size_t group_len, const char *group_name,
		  struct accord_import_stats *stats, accord_progress_fn progress,
		  void *pctx, struct accord_err *err)
{
	struct lines *l = malloc(sizeof(*l));
	size_t total;
	int r = 0, more;

	memset(stats, 0, sizeof(*stats));
	if (!l)
		return accord_err_set(err, -ENOMEM, "out of memory");
	/* pass 1: groups, without members (users do not exist yet) */
	if (group) {
		*l = (struct lines){ .p = group, .end = group + group_len, .name = group_name };
		total = count_lines(group, group_len);
		while ((more = next_line(l, err)) > 0) {
			char *f[4];
			uint32_t gid;

			if (split(l->buf, f, 4) < 0) {
				r = accord_err_set(err, -EINVAL,
						   "%s:%zu: expected 4 fields name:password:GID:members",
						   l->name, l->no);
				goto out;
			}
			if (accord_parse_id(f[2], &gid) < 0) {
				r = accord_err_set(err, -EINVAL, "%s:%zu: GID '%s' is not a number",
						   l->name, l->no, f[2]);
				goto out;
			}
			r = accord_group_add(st, f[0], true, gid, shared, err);
			if (r < 0) {
				line_err(err, l, r);
				goto out;
			}
			stats->groups++;
			if (progress && stats->groups % 65536 == 0)
				progress("groups", l->no, total, pctx);
		}
		if (more < 0) {
			r = more;
			goto out;
		}
	}
	/* pass 2: users */
	*l = (struct lines){ .p = passwd, .end = passwd + passwd_len, .name = passwd_name };
	total = count_lines(passwd, passwd_len);
	while ((more = next_line(l, err)) > 0) {
		char *f[7];
		struct accord_user_spec spec = { 0 };

		if (split(l->buf, f, 7) < 0) {
			r = accord_err_set(err, -EINVAL,
					   "%s:%zu: expected 7 fields "
					   "name:password:UID:GID:GECOS:home:shell",
					   l->name, l->no);
			goto out;
		}
		if (accord_parse_id(f[2], &spec.uid) < 0) {
			r = accord_err_set(err, -EINVAL, "%s:%zu: UID '%s' is not a number",
					   l->name, l->no, f[2]);
			goto out;
		}
		{
			uint32_t gid;

			if (accord_parse_id(f[3], &gid) < 0) {
				r = accord_err_set(err, -EINVAL, "%s:%zu: GID '%s' is not a number",
						   l->name, l->no, f[3]);
				goto out;
			}
			if (!accord_state_group_by_gid(st, gid)) {
				r = accord_err_set(err, -ENOENT,
						   "%s:%zu: primary GID %u of '%s' is neither in the "
						   "group file nor in the registry", l->name, l->no,
						   gid, f[0]);
				goto out;
			}
		}
		if (strcmp(f[1], "x") && strcmp(f[1], "*") && strcmp(f[1], "!") && f[1][0])
			stats->hashes_ignored++;
		spec.name = f[0];
		spec.has_uid = true;
		spec.shared = shared;
		spec.group = f[3];
		spec.gecos = f[4];
		spec.home = f[5];
		spec.shell = f[6];
		if (!f[5][0] || !f[6][0]) {
			r = accord_err_set(err, -EINVAL, "%s:%zu: '%s' has an empty %s", l->name,
					   l->no, f[0], f[5][0] ? "shell" : "home directory");
			goto out;
		}
		r = accord_user_add(st, &spec, NULL, err);
		if (r < 0) {
			line_err(err, l, r);
			goto out;
		}
		stats->users++;
		if (progress && stats->users % 65536 == 0)
			progress("users", l->no, total, pctx);
	}
	if (more < 0) {
		r = more;
		goto out;
	}
	/* pass 3: memberships */
	if (group) {
		*l = (struct lines){ .p = group, .end = group + group_len, .name = group_name };
		while ((more = next_line(l, err)) > 0) {
			char *f[4], *m, *save = NULL;

			if (split(l->buf, f, 4) < 0)
				continue; /* checked in pass 1 */
			for (m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save)) {
				r = accord_group_adduser(st, f[0], m, err);
				if (r < 0) {
					if (r == -ENOENT)
						accord_err_set(err, r, "member '%s' of group '%s' is "
							       "not a user in the passwd file or the "
							       "registry", m, f[0]);
					line_err(err, l, r);
					goto out;
				}
				stats->memberships++;
			}
		}
		if (more < 0)
			r = more;
	}
out:
	free(l);
	return r < 0 ? r : 0;
}
