/* SPDX-License-Identifier: MIT */
/*
 * Audit records: see include/accord/audit.h.
 *
 * The writers run inside sshd, login and su (through pam_accord), so they
 * format by hand into the caller's buffer: no allocation for the syslog
 * line, one bounded allocation at most for the file line, no JSON
 * library.  Every value may hold anything a remote peer chose (rhost, a
 * user name that does not exist), so both formats escape every byte that
 * could end a field, a line or a record, and the JSON writer never emits
 * invalid UTF-8.
 */
#include <accord/audit.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wguard.h"

#define KV_VALUE_MAX 64       /* source bytes shown per value in syslog */
#define JSON_VALUE_MAX 256    /* source bytes kept per string in the file */
#define AUDIT_LINE_MAX 65536  /* longest line accord_audit_read() accepts */
#define KV_NFIELDS 15
#define KV_NCERT 7 /* cert_* pairs, only for certificate logons */
/* key (12 at most) '=' '"' 4 bytes per source byte "..." '"' NUL */
#define KV_PAIR_MAX (16 + 4 * KV_VALUE_MAX + 8)

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* ---- key=value ---------------------------------------------------------- */

/*
 * Renders key=value into out (KV_PAIR_MAX bytes); returns its length.
 * Printable ASCII passes; every other byte (controls, DEL, anything >=
 * 0x80: NEL, U+2028, bidi controls, invalid UTF-8) is \xHH, so a syslog
 * reader sees one record on one line with nothing hidden.  Values with
 * spaces, quotes, '=', escapes or a cut are quoted; a value longer than
 * KV_VALUE_MAX source bytes is cut there, between two escapes, and ends
 * in "..." inside the quotes (*cut set).
 */
static size_t kv_pair(char *out, const char *key, const char *v, bool *cut)
{
	static const char hex[] = "0123456789abcdef";
	size_t n, i, len = strlen(v);
	bool quote = len == 0 || len > KV_VALUE_MAX;

	for (i = 0; i < len && i < KV_VALUE_MAX && !quote; i++) {
		unsigned char c = (unsigned char)v[i];

		quote = c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f;
	}
	n = (size_t)snprintf(out, KV_PAIR_MAX, "%s=", key);
	if (quote)
		out[n++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (i == KV_VALUE_MAX) {
			memcpy(out + n, "...", 3);
			n += 3;
			*cut = true;
			break;
		}
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		} else {
			out[n++] = (char)c;
		}
	}
	if (quote)
		out[n++] = '"';
	out[n] = '\0';
	return n;
}

size_t accord_audit_kv(const struct accord_audit_rec *r, char *buf, size_t len)
{
	static const char trunc[] = " truncated=1";
	char num[2][24];
	/* what this host decided first; what the other end chose last, so
	 * that a long name cannot push the decision out of the line */
	const char *keys[KV_NFIELDS + KV_NCERT] = {
		"phase", "result", "reason", "service", "appl", "method", "host",
		"rhost", "tty", "generation", "failures", "granting", "user",
		"job_user", "current_user", "cert_check", "cert_tier", "cert_label",
		"cert_sha256", "cert_serial", "cert_subject", "cert_issuer",
	};
	const char *vals[KV_NFIELDS + KV_NCERT] = {
		nz(r->phase), nz(r->result), nz(r->reason), nz(r->service), nz(r->appl),
		nz(r->method), nz(r->host), nz(r->rhost), nz(r->tty), num[0], num[1],
		nz(r->granting), nz(r->user), nz(r->job_user), nz(r->current_user),
		nz(r->cert_check), nz(r->cert_tier), nz(r->cert_label), nz(r->cert_sha256),
		nz(r->cert_serial), nz(r->cert_subject), nz(r->cert_issuer),
	};
	char pairs[KV_NFIELDS + KV_NCERT][KV_PAIR_MAX];
	size_t plen[KV_NFIELDS + KV_NCERT], total, n, i;
	size_t nkeys = r->cert_sha256 ? KV_NFIELDS + KV_NCERT : KV_NFIELDS;
	bool cut = false;

	if (!len)
		return 0;
	snprintf(num[0], sizeof(num[0]), "%" PRIu64, r->generation);
	snprintf(num[1], sizeof(num[1]), "%" PRId64, r->failures);
	n = (size_t)snprintf(buf, len, "accord:");
	if (n >= len) {
		buf[0] = '\0';
		return 0;
	}
	total = n;
	for (i = 0; i < nkeys; i++) {
		plen[i] = kv_pair(pairs[i], keys[i], vals[i], &cut);
		total += 1 + plen[i];
	}
	if (total + (cut ? sizeof(trunc) - 1 : 0) < len) {
		for (i = 0; i < nkeys; i++) {
			buf[n++] = ' ';
			memcpy(buf + n, pairs[i], plen[i]);
			n += plen[i];
		}
		if (cut) {
			memcpy(buf + n, trunc, sizeof(trunc) - 1);
			n += sizeof(trunc) - 1;
		}
		buf[n] = '\0';
		return n;
	}
	/* whole pairs only, in order, with room kept for the mark: a cut
	 * never leaves an open quote or half an escape behind */
	for (i = 0; i < nkeys; i++) {
		if (n + 1 + plen[i] + (sizeof(trunc) - 1) >= len)
			break;
		buf[n++] = ' ';
		memcpy(buf + n, pairs[i], plen[i]);
		n += plen[i];
	}
	if (n + sizeof(trunc) - 1 < len) {
		memcpy(buf + n, trunc, sizeof(trunc) - 1);
		n += sizeof(trunc) - 1;
	}
	buf[n] = '\0';
	return n;
}

/* ---- JSON --------------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, n;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->len - o->n) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->n, s, n);
	o->n += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (p[0] == 0xe0 && p[1] < 0xa0)
			return 0; /* overlong */
		if (p[0] == 0xed && p[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (p[0] == 0xf0 && p[1] < 0x90)
			return 0;
		if (p[0] == 0xf4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/* A JSON string of at most JSON_VALUE_MAX source bytes, cut between two
 * characters and marked "..." */
static void put_json_string(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)nz(s), *start = p;
	char esc[8];

	put(o, "\"", 1);
	while (*p) {
		size_t k = utf8_seq(p);

		if ((size_t)(p - start) + (k ? k : 1) > JSON_VALUE_MAX) {
			puts_(o, "...");
			break;
		}
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(o, esc, 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(o, esc, 6);
			p++;
		} else if (k > 0) {
			put(o, (const char *)p, k);
			p += k;
		} else {
			/* not UTF-8: keep the line valid JSON */
			puts_(o, "\\ufffd");
			p++;
		}
	}
	put(o, "\"", 1);
}

static void put_field(struct out *o, const char *key, const char *v, bool first)
{
	if (!first)
		put(o, ",", 1);
	put(o, "\"", 1);
	puts_(o, key);
	put(o, "\":", 2);
	put_json_string(o, v);
}

size_t accord_audit_json(const struct accord_audit_rec *r, char *buf,
			 size_t len)
{
	struct out o = { .buf = buf, .len = len };
	char tbuf[40], num[48];
	struct tm tm;
	time_t t = (time_t)r->time;

	if (!len)
		return 0;
	if (!gmtime_r(&t, &tm) ||
	    strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(tbuf, sizeof(tbuf), "@%" PRId64, r->time);
	puts_(&o, "{");
	put_field(&o, "time", tbuf, true);
	put_field(&o, "host", r->host, false);
	put_field(&o, "service", r->service, false);
	put_field(&o, "appl", r->appl, false);
	put_field(&o, "phase", r->phase, false);
	put_field(&o, "method", r->method, false);
	put_field(&o, "result", r->result, false);
	put_field(&o, "reason", r->reason, false);
	put_field(&o, "user", r->user, false);
	put_field(&o, "job_user", r->job_user, false);
	put_field(&o, "current_user", r->current_user, false);
	put_field(&o, "rhost", r->rhost, false);
	put_field(&o, "tty", r->tty, false);
	put_field(&o, "granting", r->granting, false);
	if (r->cert_sha256) {
		put_field(&o, "cert_check", r->cert_check, false);
		put_field(&o, "cert_tier", r->cert_tier, false);
		put_field(&o, "cert_label", r->cert_label, false);
		put_field(&o, "cert_sha256", r->cert_sha256, false);
		put_field(&o, "cert_serial", r->cert_serial, false);
		put_field(&o, "cert_subject", r->cert_subject, false);
		put_field(&o, "cert_issuer", r->cert_issuer, false);
	}
	snprintf(num, sizeof(num), ",\"generation\":%" PRIu64, r->generation);
	puts_(&o, num);
	snprintf(num, sizeof(num), ",\"failures\":%" PRId64 "}\n", r->failures);
	puts_(&o, num);
	if (o.full) {
		buf[0] = '\0';
		return 0;
	}
	buf[o.n] = '\0';
	return o.n;
}

/* ---- the file ----------------------------------------------------------- */

static bool owner_ok(uid_t uid)
{
	/* root's; the caller's own only when the caller is not root (tests) */
	return uid == 0 || uid == geteuid();
}

/* dir gets the directory part of path ("." or "/" included), *base the
 * last name.  0, -ENAMETOOLONG, or -EISDIR for a path ending in '/'. */
static int split_path(const char *path, char *dir, size_t dlen, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(dir, dlen, ".");
		*base = path;
	} else if (slash == path) {
		snprintf(dir, dlen, "/");
		*base = slash + 1;
	} else {
		if ((size_t)(slash - path) >= dlen)
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		*base = slash + 1;
	}
	return **base ? 0 : -EISDIR;
}

/*
 * The audit file, opened for appending through its directory: the
 * directory not a link, owned by root (or the caller when not root), not
 * writable by group or others; the file not a link, regular, one link,
 * owned likewise, no group or other bits (a mistyped user name in it may
 * be a password).  Returns the descriptor or -errno.
 */
static int open_audit(const char *path, struct accord_err *err)
{
	char dir[4096];
	const char *base;
	struct stat st;
	bool created = true;
	int dfd, fd, r;

	r = split_path(path, dir, sizeof(dir), &base);
	if (r < 0)
		return accord_err_set(err, r, "cannot open audit file %s: %s", path,
				      strerror(-r));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return accord_err_set(err, -EPERM,
					      "refusing audit file %s: its directory %s is a "
					      "symbolic link or not a directory", path, dir);
		return accord_err_set(err, -errno, "cannot open the directory of audit file "
				      "%s: %s", path, strerror(errno));
	}
	if (fstat(dfd, &st) < 0) {
		r = accord_err_set(err, -errno, "cannot stat %s: %s", dir, strerror(errno));
		goto out;
	}
	if (!owner_ok(st.st_uid) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		r = accord_err_set(err, -EPERM,
				   "refusing audit file %s: its directory %s must be owned by root "
				   "and not writable by group or others (chown root %s; chmod go-w "
				   "%s)", path, dir, dir, dir);
		goto out;
	}
	/* O_EXCL first, so we know whether the mode is ours to set */
	fd = openat(dfd, base, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = openat(dfd, base, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0) {
		if (errno == ELOOP)
			r = accord_err_set(err, -EPERM,
					   "refusing audit file %s: a symbolic link", path);
		else
			r = accord_err_set(err, -errno, "cannot open audit file %s: %s", path,
					   strerror(errno));
		goto out;
	}
	if (created && fchmod(fd, 0600) < 0) {
		r = accord_err_set(err, -errno, "cannot chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = accord_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = accord_err_set(err, -EPERM, "refusing audit file %s: not a regular file",
				   path);
		goto fail;
	}
	if (!owner_ok(st.st_uid) || (st.st_mode & 077) || st.st_nlink != 1) {
		r = accord_err_set(err, -EPERM,
				   "refusing audit file %s: it must be owned by root, have mode "
				   "0600 and one link (it has uid %u, mode %04o, %lu links; "
				   "chown root %s; chmod 0600 %s)", path, (unsigned)st.st_uid,
				   (unsigned)(st.st_mode & 07777), (unsigned long)st.st_nlink,
				   path, path);
		goto fail;
	}
	r = fd;
	goto out;
fail:
	close(fd);
out:
	close(dfd);
	return r;
}

int accord_audit_append(const char *path, const struct accord_audit_rec *r,
			struct accord_err *err)
{
	/* 13 strings of at most JSON_VALUE_MAX source bytes, 6 output
	 * bytes each at most, and the rest */
	enum { CAP = 1024 + 13 * (6 * JSON_VALUE_MAX + 8) };
	struct accord_wguard g;
	char *line;
	size_t n;
	ssize_t w;
	int fd, rc = 0;

	line = malloc(CAP);
	if (!line)
		return accord_err_set(err, -ENOMEM, "out of memory");
	n = accord_audit_json(r, line, CAP);
	if (n == 0) {
		rc = accord_err_set(err, -EOVERFLOW, "audit record too long");
		goto out;
	}
	fd = open_audit(path, err);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	/* one write: O_APPEND makes it one record even with many writers;
	 * the caller's file size limit must not cut it */
	accord_wguard_begin(&g);
	do
		w = write(fd, line, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		rc = -errno;
	accord_wguard_end(&g);
	if (w < 0)
		rc = accord_err_set(err, rc, "cannot write audit file %s: %s", path,
				    strerror(-rc));
	else if ((size_t)w != n)
		rc = accord_err_set(err, -EIO, "short write to audit file %s", path);
	close(fd);
out:
	free(line);
	return rc;
}

static const char *rec_str(json_object *rec, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool user_matches(json_object *rec, const char *user)
{
	static const char *const keys[] = { "user", "job_user", "current_user" };
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *v = rec_str(rec, keys[i]);

		if (v && !strcmp(v, user))
			return true;
	}
	return false;
}

int accord_audit_read(const char *path, const struct accord_audit_filter *f,
		      accord_audit_cb cb, accord_audit_bad_cb bad, void *ctx,
		      struct accord_err *err)
{
	json_tokener *tok = NULL;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	FILE *fp = NULL;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return accord_err_set(err, errno == ELOOP ? -EPERM : -errno,
				      "cannot open audit file %s: %s", path,
				      errno == ELOOP ? "a symbolic link" : strerror(errno));
	fp = fdopen(fd, "r");
	if (!fp) {
		rc = accord_err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		rc = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		json_object *rec = NULL;
		const char *why = NULL, *ts;
		int64_t t = 0;
		ssize_t n;

		errno = 0;
		n = getline(&line, &cap, fp);
		if (n < 0) {
			if (errno && errno != EINTR)
				rc = accord_err_set(err, -errno, "cannot read %s: %s", path,
						    strerror(errno));
			break;
		}
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (n > AUDIT_LINE_MAX) {
			why = "line too long";
		} else if (strlen(line) != (size_t)n) {
			why = "NUL byte";
		} else {
			json_tokener_reset(tok);
			rec = json_tokener_parse_ex(tok, line, (int)n);
			if (!rec || json_tokener_get_error(tok) != json_tokener_success ||
			    json_tokener_get_parse_end(tok) != (size_t)n)
				why = "not a JSON object";
			else if (!json_object_is_type(rec, json_type_object))
				why = "not a JSON object";
			else if (!(ts = rec_str(rec, "time")) || accord_parse_time(ts, &t) < 0)
				why = "no valid \"time\"";
		}
		if (why) {
			if (bad)
				bad(lineno, why, ctx);
			json_object_put(rec);
			continue;
		}
		if ((f && f->since && t < f->since) ||
		    (f && f->user && *f->user && !user_matches(rec, f->user))) {
			json_object_put(rec);
			continue;
		}
		rc = cb(rec, line, ctx);
		json_object_put(rec);
		if (rc)
			break;
	}
out:
	if (tok)
		json_tokener_free(tok);
	free(line);
	if (fp)
		fclose(fp);
	return rc;
}

/* ---- time --------------------------------------------------------------- */

static int digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

int accord_parse_time(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	if (*p == '@') {
		int64_t v = 0;

		p++;
		if (!*p)
			return -EINVAL;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
				return -EINVAL;
			v = v * 10 + (*p - '0');
		}
		*out = v;
		return 0;
	}
	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) < 0)
				return -EINVAL;
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -EINVAL;
		if (*p == 'Z')
			p++;
	}
	if (*p)
		return -EINVAL;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}
