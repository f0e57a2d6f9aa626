/* SPDX-License-Identifier: MIT */
/*
 * Audit records (common/audit.c): the syslog key=value line and its
 * escaping, the JSON line (parsed back with json-c), the audit file
 * (append, trust, read with filters, malformed lines) and time parsing.
 */
#include "logon_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <accord/audit.h>

static struct accord_audit_rec sample(void)
{
	return (struct accord_audit_rec){
		.time = 1795255200, /* 2026-11-21T10:00:00Z */
		.host = "web1",
		.service = "sshd",
		.appl = "sshd",
		.phase = "auth",
		.method = "password",
		.result = "failure",
		.reason = "bad_secret",
		.user = "alice",
		.job_user = "alice",
		.current_user = NULL,
		.rhost = "192.0.2.7",
		.tty = "ssh",
		.granting = "",
		.generation = 42,
		.failures = 3,
	};
}

static void test_kv_order(void **state)
{
	struct accord_audit_rec r = sample();
	char buf[1024];
	size_t n;

	(void)state;
	n = accord_audit_kv(&r, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	/* what this host decided first, what the other end chose last */
	assert_string_equal(buf,
			    "accord: phase=auth result=failure reason=bad_secret service=sshd "
			    "appl=sshd method=password host=web1 rhost=192.0.2.7 tty=ssh "
			    "generation=42 failures=3 granting=\"\" user=alice job_user=alice "
			    "current_user=\"\"");
	r.failures = -1;
	r.granting = "group:ops";
	accord_audit_kv(&r, buf, sizeof(buf));
	assert_contains(buf, " generation=42 failures=-1 granting=group:ops user=alice ");
	assert_not_contains(buf, "truncated");
}

static void test_kv_escaping(void **state)
{
	struct accord_audit_rec r = sample();
	char buf[2048], big[600];
	size_t n;

	(void)state;
	r.rhost = "evil host\n reason=ok";
	r.tty = "a\"b\\c";
	r.user = "x=y";
	r.job_user = "\x1b[31m";
	r.current_user = "j\xc3\xa9r\xc3\xb4me"; /* UTF-8 passes */
	n = accord_audit_kv(&r, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\x1b'));
	assert_contains(buf, " rhost=\"evil host\\x0a reason=ok\" ");
	assert_contains(buf, " tty=\"a\\\"b\\\\c\" ");
	assert_contains(buf, " user=\"x=y\" ");
	assert_contains(buf, " job_user=\"\\x1b[31m\" ");
	/* nothing >= 0x7f passes: UTF-8 is escaped byte by byte */
	assert_contains(buf, " current_user=\"j\\xc3\\xa9r\\xc3\\xb4me\"");
	/* the real reason is still the one in its place */
	assert_contains(buf, "accord: phase=auth result=failure reason=bad_secret ");
	assert_not_contains(buf, "truncated");

	/* a huge value is cut at 64 bytes, marked inside its quotes, and the
	 * line says so */
	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = ' ';
	r.rhost = big;
	accord_audit_kv(&r, buf, sizeof(buf));
	{
		char *want = lt_fmt(" rhost=\"%.64s...\" tty=", big);

		assert_contains(buf, want);
		free(want);
	}
	assert_int_equal(strlen(buf) - strlen(" truncated=1"),
			 (size_t)(strstr(buf, " truncated=1") - buf));
	/* a long plain value is quoted when cut */
	memset(big, 'h', sizeof(big) - 1);
	accord_audit_kv(&r, buf, sizeof(buf));
	assert_contains(buf, " rhost=\"hhhh");
}

/* NEL, LINE SEPARATOR, bidi overrides, invalid UTF-8, DEL: all \xHH */
static void test_kv_unicode_controls(void **state)
{
	struct accord_audit_rec r = sample();
	char buf[2048];
	size_t i, n;

	(void)state;
	r.user = "a\xc2\x85" "b\xe2\x80\xa8" "c\xe2\x80\xae" "d\xff\xfe" "e\x7f";
	n = accord_audit_kv(&r, buf, sizeof(buf));
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
			fail_msg("byte 0x%02x at %zu passed: %s", (unsigned char)buf[i], i, buf);
	assert_contains(buf, " user=\"a\\xc2\\x85b\\xe2\\x80\\xa8c\\xe2\\x80\\xae"
			     "d\\xff\\xfee\\x7f\"");
	/* a cut never splits an escape: 64 source bytes of \xff give 64
	 * whole escapes */
	{
		char v[100];

		memset(v, 0xff, sizeof(v) - 1);
		v[sizeof(v) - 1] = '\0';
		r.user = v;
		accord_audit_kv(&r, buf, sizeof(buf));
		assert_non_null(strstr(buf, " user=\""));
		{
			const char *p = strstr(buf, " user=\"") + 7;
			size_t k;

			for (k = 0; k < 64; k++, p += 4)
				assert_memory_equal(p, "\\xff", 4);
			assert_memory_equal(p, "...\"", 4);
		}
	}
}

/* Long user-chosen names cannot push out what this host decided, nor
 * rhost and tty: the names come last, and what does not fit is dropped
 * whole, with truncated=1 */
static void test_kv_long_names(void **state)
{
	struct accord_audit_rec r = sample();
	char buf[600], name[300];

	(void)state;
	memset(name, '\x01', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	r.user = name;
	r.job_user = name;
	r.current_user = name;
	r.rhost = "203.0.113.9";
	r.tty = "pts/3";
	accord_audit_kv(&r, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_contains(buf, " rhost=203.0.113.9 tty=pts/3 ");
	assert_contains(buf, " host=web1 ");
	assert_contains(buf, " failures=3 ");
	assert_not_contains(buf, "current_user=");
	assert_int_equal(strlen(buf) - strlen(" truncated=1"),
			 (size_t)(strstr(buf, " truncated=1") - buf));
	/* the PAM module's 2048 bytes hold every field even then */
	{
		char line[2048];

		accord_audit_kv(&r, line, sizeof(line));
		assert_contains(line, " current_user=\"\\x01");
		assert_contains(line, "...\" truncated=1");
	}
}

static void test_kv_truncation(void **state)
{
	struct accord_audit_rec r = sample();
	char full[1024], buf[1024];
	size_t len, n;

	(void)state;
	r.rhost = "a b";
	accord_audit_kv(&r, full, sizeof(full));
	assert_not_contains(full, "truncated");
	for (len = 0; len <= strlen(full) + 1; len++) {
		static const char mark[] = " truncated=1";
		size_t m;

		memset(buf, 'Z', sizeof(buf));
		n = accord_audit_kv(&r, buf, len);
		if (len == 0) {
			assert_int_equal(n, 0);
			assert_int_equal(buf[0], 'Z');
			continue;
		}
		assert_true(n < len);
		assert_int_equal(strlen(buf), n);
		/* a prefix of the full line, cut between pairs, then the
		 * mark when there is room for it */
		m = n;
		if (n < strlen(full) && n >= strlen(mark) &&
		    !strcmp(buf + n - strlen(mark), mark))
			m = n - strlen(mark);
		else if (n < strlen(full))
			assert_true(len <= strlen("accord:") + strlen(mark) + 1 ||
				    n + strlen(mark) >= len);
		if (n < strlen(full) && len > 40)
			assert_int_equal(m + strlen(mark), n);
		assert_memory_equal(buf, full, m);
		if (m > 0)
			assert_true(full[m] == '\0' || full[m] == ' ');
		{
			size_t quotes = 0, i;

			for (i = 0; i < n; i++)
				if (buf[i] == '"' && (i == 0 || buf[i - 1] != '\\'))
					quotes++;
			assert_int_equal(quotes % 2, 0);
		}
	}
	assert_int_equal(accord_audit_kv(&r, buf, strlen(full) + 1), strlen(full));
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key %s", key);
	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key %s", key);
	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static void test_json(void **state)
{
	static const char *const keys[] = {
		"time", "host", "service", "appl", "phase", "method", "result", "reason",
		"user", "job_user", "current_user", "rhost", "tty", "granting",
	};
	struct accord_audit_rec r = sample();
	char buf[4096], ctl[40];
	json_object *o;
	size_t n, i, need;

	(void)state;
	for (i = 0; i < 31; i++)
		ctl[i] = (char)(i + 1);
	ctl[31] = 0x7f;
	ctl[32] = '\0';
	r.rhost = "quote\" backslash\\ slash/ tab\t nl\n";
	r.tty = ctl;
	r.granting = "bad \xff\xfe utf8 \xc3\x28 \xed\xa0\x80 ok \xe2\x82\xac";
	r.current_user = "j\xc3\xa9r\xc3\xb4me";
	r.generation = UINT64_C(18446744073709551615);
	n = accord_audit_json(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
	o = json_tokener_parse(buf);
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_object));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		jstr(o, keys[i]);
	assert_int_equal(json_object_object_length(o), 16);
	assert_string_equal(jstr(o, "time"), "2026-11-21T10:00:00Z");
	assert_string_equal(jstr(o, "rhost"), r.rhost);
	assert_string_equal(jstr(o, "tty"), ctl);
	assert_string_equal(jstr(o, "current_user"), r.current_user);
	assert_string_equal(jstr(o, "granting"),
			    "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd( "
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok \xe2\x82\xac");
	assert_string_equal(jstr(o, "user"), "alice");
	assert_string_equal(jstr(o, "reason"), "bad_secret");
	assert_int_equal(jint(o, "failures"), 3);
	{
		json_object *v;

		assert_true(json_object_object_get_ex(o, "generation", &v));
		assert_int_equal(json_object_get_uint64(v), UINT64_C(18446744073709551615));
	}
	json_object_put(o);

	/* NULL strings are "", failures -1 stays a number */
	r = (struct accord_audit_rec){ .time = 0, .failures = -1 };
	n = accord_audit_json(&r, buf, sizeof(buf));
	o = json_tokener_parse(buf);
	assert_non_null(o);
	assert_string_equal(jstr(o, "user"), "");
	assert_string_equal(jstr(o, "time"), "1970-01-01T00:00:00Z");
	assert_int_equal(jint(o, "failures"), -1);
	assert_int_equal(jint(o, "generation"), 0);
	json_object_put(o);

	/* too small: 0, never a cut line */
	need = n + 1;
	assert_int_equal(accord_audit_json(&r, buf, need), n);
	for (i = 0; i < need - 1; i++)
		assert_int_equal(accord_audit_json(&r, buf, i), 0);
}

struct seen {
	unsigned count, bad;
	unsigned bad_lines[8];
	char users[16][32];
	int stop_after;
};

static int on_rec(json_object *rec, const char *line, void *ctx)
{
	struct seen *s = ctx;
	json_object *v;

	assert_non_null(line);
	assert_int_equal(line[0], '{');
	assert_true(json_object_object_get_ex(rec, "user", &v));
	if (s->count < 16)
		snprintf(s->users[s->count], sizeof(s->users[0]), "%s",
			 json_object_get_string(v));
	s->count++;
	if (s->stop_after && (int)s->count == s->stop_after)
		return 7;
	return 0;
}

static void on_bad(unsigned lineno, const char *why, void *ctx)
{
	struct seen *s = ctx;

	assert_non_null(why);
	if (s->bad < 8)
		s->bad_lines[s->bad] = lineno;
	s->bad++;
}

static void append_raw(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_file(void **state)
{
	char *dir = lt_mkdtemp(), *path = lt_fmt("%s/audit.log", dir);
	struct accord_audit_rec r = sample();
	struct accord_audit_filter f = { 0 };
	struct accord_err err = { 0 };
	struct seen s;
	struct stat st;
	mode_t old;

	(void)state;
	old = umask(0);
	r.user = "alice";
	r.time = 1000;
	assert_int_equal(accord_audit_append(path, &r, &err), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	r.user = "bob";
	r.job_user = "alice";
	r.time = 2000;
	assert_int_equal(accord_audit_append(path, &r, &err), 0);
	/* malformed lines: reported with their number, the walk goes on */
	append_raw(path, "garbage\n");
	append_raw(path, "{\"user\":\"carol\"}\n");
	append_raw(path, "\n");
	append_raw(path, "{\"time\":\"2026-11-21T10:00:00Z\"} trailing\n");
	r.user = "carol";
	r.job_user = "carol";
	r.current_user = "bob";
	r.time = 3000;
	assert_int_equal(accord_audit_append(path, &r, &err), 0);
	append_raw(path, "[1,2]\n");
	/* a record whose strings need escaping reads back */
	r.user = "dave";
	r.current_user = "";
	r.rhost = "x\ny\"z";
	r.time = 4000;
	assert_int_equal(accord_audit_append(path, &r, &err), 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(accord_audit_read(path, NULL, on_rec, on_bad, &s, &err), 0);
	assert_int_equal(s.count, 4);
	assert_string_equal(s.users[0], "alice");
	assert_string_equal(s.users[3], "dave");
	assert_int_equal(s.bad, 4);
	assert_int_equal(s.bad_lines[0], 3);
	assert_int_equal(s.bad_lines[1], 4);
	assert_int_equal(s.bad_lines[2], 6);
	assert_int_equal(s.bad_lines[3], 8);
	/* no bad callback: fine too */
	memset(&s, 0, sizeof(s));
	assert_int_equal(accord_audit_read(path, &f, on_rec, NULL, &s, &err), 0);
	assert_int_equal(s.count, 4);

	/* user matches user, job_user or current_user */
	memset(&s, 0, sizeof(s));
	f.user = "bob";
	assert_int_equal(accord_audit_read(path, &f, on_rec, on_bad, &s, &err), 0);
	assert_int_equal(s.count, 2);
	assert_string_equal(s.users[0], "bob");
	assert_string_equal(s.users[1], "carol");
	memset(&s, 0, sizeof(s));
	f.user = "alice";
	assert_int_equal(accord_audit_read(path, &f, on_rec, on_bad, &s, &err), 0);
	assert_int_equal(s.count, 2);
	/* since: at or after */
	memset(&s, 0, sizeof(s));
	f.user = NULL;
	f.since = 2000;
	assert_int_equal(accord_audit_read(path, &f, on_rec, on_bad, &s, &err), 0);
	assert_int_equal(s.count, 3);
	assert_string_equal(s.users[0], "bob");
	memset(&s, 0, sizeof(s));
	f.user = "alice";
	f.since = 1001;
	assert_int_equal(accord_audit_read(path, &f, on_rec, on_bad, &s, &err), 0);
	assert_int_equal(s.count, 1);
	/* the callback stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(accord_audit_read(path, NULL, on_rec, on_bad, &s, &err), 7);
	assert_int_equal(s.count, 2);

	/* missing file */
	{
		char *missing = lt_fmt("%s/none.log", dir);

		assert_int_equal(accord_audit_read(missing, NULL, on_rec, on_bad, &s, &err),
				 -ENOENT);
		assert_contains(err.msg, missing);
		free(missing);
	}
	lt_rmtree(dir);
	free(path);
	free(dir);
}

static void test_file_trust(void **state)
{
	char *dir = lt_mkdtemp(), *path = lt_fmt("%s/audit.log", dir);
	char *slink = lt_fmt("%s/link.log", dir), *hard = lt_fmt("%s/hard.log", dir);
	char *sub = lt_fmt("%s/sub", dir), *sublog = lt_fmt("%s/sub/audit.log", dir);
	char *dirlink = lt_fmt("%s/dirlink", dir), *vialink = lt_fmt("%s/dirlink/audit.log", dir);
	struct accord_audit_rec r = sample();
	struct accord_err err = { 0 };
	char *text;

	(void)state;
	assert_int_equal(accord_audit_append(path, &r, &err), 0);
	/* any group or other bit: refused, nothing written (a mistyped
	 * user name may be a password, so not even readable) */
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(accord_audit_append(path, &r, &err), -EPERM);
	assert_contains(err.msg, path);
	assert_contains(err.msg, "0600");
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(accord_audit_append(path, &r, &err), -EPERM);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(accord_audit_append(path, &r, &err), -EPERM);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(accord_audit_append(path, &r, &err), -EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(accord_audit_append(path, &r, &err), 0);
	text = lt_read_file(path, NULL);
	assert_non_null(text);
	{
		size_t lines = 0;
		const char *p;

		for (p = text; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 2);
	}
	free(text);
	/* a link is never followed */
	assert_int_equal(symlink(path, slink), 0);
	assert_int_equal(accord_audit_append(slink, &r, &err), -EPERM);
	assert_contains(err.msg, "symbolic link");
	/* nor a second name of the file */
	assert_int_equal(link(path, hard), 0);
	assert_int_equal(accord_audit_append(path, &r, &err), -EPERM);
	assert_contains(err.msg, "one link");
	assert_int_equal(accord_audit_append(hard, &r, &err), -EPERM);
	assert_int_equal(unlink(hard), 0);
	assert_int_equal(accord_audit_append(path, &r, &err), 0);
	/* the directory: not writable by group or others, not a link */
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(accord_audit_append(sublog, &r, &err), 0);
	assert_int_equal(chmod(sub, 0770), 0);
	assert_int_equal(accord_audit_append(sublog, &r, &err), -EPERM);
	assert_contains(err.msg, sub);
	assert_int_equal(chmod(sub, 0703), 0);
	assert_int_equal(accord_audit_append(sublog, &r, &err), -EPERM);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(accord_audit_append(sublog, &r, &err), 0);
	assert_int_equal(symlink(sub, dirlink), 0);
	assert_int_equal(accord_audit_append(vialink, &r, &err), -EPERM);
	assert_contains(err.msg, "symbolic link");
	/* a world-writable sticky directory such as /tmp is refused too */
	assert_int_equal(accord_audit_append("/tmp/accord-audit-test.log", &r, &err), -EPERM);
	assert_int_equal(access("/tmp/accord-audit-test.log", F_OK), -1);
	/* owner */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 0), 0);
		assert_int_equal(accord_audit_append(path, &r, &err), -EPERM);
		assert_contains(err.msg, "owned by root");
		assert_int_equal(chown(path, 0, 0), 0);
		assert_int_equal(chown(sub, 65534, 0), 0);
		assert_int_equal(accord_audit_append(sublog, &r, &err), -EPERM);
		assert_contains(err.msg, "owned by root");
	}
	/* a directory */
	assert_int_equal(mkdir(sublog, 0700) == 0 || errno == EEXIST, 1);
	if (unlink(sublog) == 0)
		assert_int_equal(mkdir(sublog, 0700), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(sub, 0, 0), 0);
	assert_int_equal(accord_audit_append(sublog, &r, &err), -EISDIR);
	/* a path ending in '/' */
	{
		char *slash = lt_fmt("%s/", sub);

		assert_int_equal(accord_audit_append(slash, &r, &err), -EISDIR);
		free(slash);
	}
	lt_rmtree(dir);
	free(path);
	free(slink);
	free(hard);
	free(sub);
	free(sublog);
	free(dirlink);
	free(vialink);
	free(dir);
}

static void test_long_record(void **state)
{
	char *dir = lt_mkdtemp(), *path = lt_fmt("%s/audit.log", dir);
	struct accord_audit_rec r = sample();
	struct accord_err err = { 0 };
	char *big = malloc(20000), *text, *want;
	json_object *o;

	(void)state;
	assert_non_null(big);
	memset(big, '\n', 19999);
	big[19999] = '\0';
	r.rhost = big; /* 6 bytes each in JSON: past any fixed buffer */
	r.user = big;
	assert_int_equal(accord_audit_append(path, &r, &err), 0);
	text = lt_read_file(path, NULL);
	o = json_tokener_parse(text);
	assert_non_null(o);
	/* complete (every field), each string capped at 256 bytes */
	assert_int_equal(json_object_object_length(o), 16);
	want = lt_fmt("%.256s...", big);
	assert_string_equal(jstr(o, "rhost"), want);
	assert_string_equal(jstr(o, "user"), want);
	assert_string_equal(jstr(o, "tty"), "ssh");
	assert_int_equal(jint(o, "failures"), 3);
	json_object_put(o);
	free(want);
	free(text);

	/* a cut never splits a UTF-8 character: 255 ASCII bytes, then
	 * a 2-byte character that would end past 256 */
	memset(big, 'a', 255);
	strcpy(big + 255, "\xc3\xa9tail");
	r.user = big;
	r.rhost = "x";
	{
		char line[8192];

		assert_true(accord_audit_json(&r, line, sizeof(line)) > 0);
		o = json_tokener_parse(line);
		assert_non_null(o);
		want = lt_fmt("%.255s...", big);
		assert_string_equal(jstr(o, "user"), want);
		free(want);
		json_object_put(o);
		/* exactly 256 bytes: not cut */
		memset(big, 'a', 256);
		big[256] = '\0';
		r.user = big;
		assert_true(accord_audit_json(&r, line, sizeof(line)) > 0);
		o = json_tokener_parse(line);
		assert_string_equal(jstr(o, "user"), big);
		json_object_put(o);
	}
	free(big);
	lt_rmtree(dir);
	free(path);
	free(dir);
}

static void test_parse_time(void **state)
{
	static const struct {
		const char *s;
		int64_t t;
	} good[] = {
		{ "2026-11-21", 1795219200 },
		{ "2026-11-21T10:00:00Z", 1795255200 },
		{ "2026-11-21T10:00:00", 1795255200 },
		{ "2026-11-21 10:00", 1795255200 },
		{ "2026-11-21T10:00Z", 1795255200 },
		{ "2026-11-21 10:00:59", 1795255259 },
		{ "1970-01-01", 0 },
		{ "1969-12-31", -86400 },
		{ "2000-02-29", 951782400 },
		{ "2024-02-29T23:59:59Z", 1709251199 },
		{ "@1790000000", 1790000000 },
		{ "@0", 0 },
	};
	static const char *const bad[] = {
		"", "@", "@-1", "@12a", "@99999999999999999999", "2026-11-21T", "2026-11-21X",
		"2026-13-01", "2026-00-10", "2026-11-31", "2025-02-29", "1900-02-29",
		"2026-11-21T24:00", "2026-11-21T10:60", "2026-11-21T10:00:61", "26-11-21",
		"2026/11/21", "2026-11-21T10", "2026-11-21 10:00 ", " 2026-11-21",
		"2026-11-21T10:00:00ZZ", "yesterday", "2026-1-21",
	};
	size_t i;
	int64_t t;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = -12345;
		if (accord_parse_time(good[i].s, &t) != 0)
			fail_msg("refused: %s", good[i].s);
		if (t != good[i].t)
			fail_msg("%s: %lld, expected %lld", good[i].s, (long long)t,
				 (long long)good[i].t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = -12345;
		if (accord_parse_time(bad[i], &t) != -EINVAL)
			fail_msg("accepted: '%s'", bad[i]);
		assert_int_equal(t, -12345);
	}
	assert_int_equal(accord_parse_time(NULL, &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_order),
		cmocka_unit_test(test_kv_escaping),
		cmocka_unit_test(test_kv_truncation),
		cmocka_unit_test(test_kv_unicode_controls),
		cmocka_unit_test(test_kv_long_names),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_trust),
		cmocka_unit_test(test_long_record),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
