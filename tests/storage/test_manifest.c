/* SPDX-License-Identifier: MIT */
/*
 * The storage manifest (common/storage.c): format/parse round trip, the
 * checksum that catches edits and truncation, the consistency checks,
 * and the conversion phases that make a resumed conversion safe.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <accord/storage.h>

static struct accord_owner owners[] = {
	{ ACCORD_OWNER_USER, 0, 3, "" },
	{ ACCORD_OWNER_USER, 1000, 5, "alice" },
	{ ACCORD_OWNER_USER, 1001, 2, "bob" },
	{ ACCORD_OWNER_GROUP, 0, 3, "" },
	{ ACCORD_OWNER_GROUP, 1000, 7, "alice" },
};

static void sample(struct accord_manifest *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->name, "vol1");
	strcpy(m->registry, "0123abcd-0000-4000-8000-00000000beef");
	strcpy(m->path, "/srv/vol \"1\"\\x");
	m->created = 1700000000;
	m->scanned = 1700000100;
	m->files = 10;
	m->owners = owners;
	m->nowners = sizeof(owners) / sizeof(owners[0]);
}

static int parse(const char *text, size_t len, struct accord_manifest *m)
{
	struct accord_err e = { 0 };
	int r = accord_manifest_parse(text, len, m, &e);

	if (r < 0)
		assert_true(e.msg[0] != '\0');
	return r;
}

static void test_round_trip(void **unused)
{
	struct accord_manifest m, back;
	char *text;
	size_t len, i;

	(void)unused;
	sample(&m);
	assert_int_equal(accord_manifest_format(&m, &text, &len), 0);
	assert_int_equal(parse(text, len, &back), 0);
	assert_string_equal(back.name, m.name);
	assert_string_equal(back.registry, m.registry);
	assert_string_equal(back.path, m.path);
	assert_int_equal(back.created, m.created);
	assert_int_equal(back.scanned, m.scanned);
	assert_int_equal(back.files, m.files);
	assert_int_equal(back.nowners, m.nowners);
	for (i = 0; i < m.nowners; i++) {
		assert_int_equal(back.owners[i].kind, owners[i].kind);
		assert_int_equal(back.owners[i].id, owners[i].id);
		assert_int_equal(back.owners[i].files, owners[i].files);
		assert_string_equal(back.owners[i].name, owners[i].name);
	}
	accord_manifest_free(&back);
	free(text);
}

static void test_edits_and_truncation(void **unused)
{
	struct accord_manifest m, back;
	char *text, *p;
	size_t len, cut;

	(void)unused;
	sample(&m);
	assert_int_equal(accord_manifest_format(&m, &text, &len), 0);
	/* every truncation is refused */
	for (cut = 0; cut < len; cut++)
		assert_int_equal(parse(text, cut, &back), -EBADMSG);
	/* one changed digit is refused */
	p = strstr(text, "\"files\": 5");
	assert_non_null(p);
	p[9] = '6';
	assert_int_equal(parse(text, len, &back), -EBADMSG);
	p[9] = '5';
	assert_int_equal(parse(text, len, &back), 0);
	accord_manifest_free(&back);
	free(text);
}

/* Wrong content with a right checksum (a buggy writer, a forger). */
static void test_inconsistent(void **unused)
{
	struct accord_owner dup[] = {
		{ ACCORD_OWNER_USER, 1000, 5, "alice" },
		{ ACCORD_OWNER_USER, 1001, 5, "alice" },
		{ ACCORD_OWNER_GROUP, 1000, 10, "g" },
	};
	struct accord_owner order[] = {
		{ ACCORD_OWNER_USER, 1001, 5, "alice" },
		{ ACCORD_OWNER_USER, 1000, 5, "bob" },
		{ ACCORD_OWNER_GROUP, 1000, 10, "g" },
	};
	struct accord_owner sum[] = {
		{ ACCORD_OWNER_USER, 1000, 5, "alice" },
		{ ACCORD_OWNER_GROUP, 1000, 4, "g" },
	};
	struct accord_owner badname[] = {
		{ ACCORD_OWNER_USER, 1000, 5, "Alice" },
		{ ACCORD_OWNER_GROUP, 1000, 5, "g" },
	};
	struct { struct accord_owner *o; size_t n; uint64_t files; } cases[] = {
		{ dup, 3, 10 }, { order, 3, 10 }, { sum, 2, 5 }, { badname, 2, 5 },
	};
	struct accord_manifest m, back;
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text;
		size_t len;

		sample(&m);
		m.owners = cases[i].o;
		m.nowners = cases[i].n;
		m.files = cases[i].files;
		assert_int_equal(accord_manifest_format(&m, &text, &len), 0);
		assert_int_equal(parse(text, len, &back), -EINVAL);
		free(text);
	}
	sample(&m);
	strcpy(m.name, "Bad");
	{
		char *text;
		size_t len;

		assert_int_equal(accord_manifest_format(&m, &text, &len), 0);
		assert_int_equal(parse(text, len, &back), -EINVAL);
		free(text);
	}
}

/* A swap (1000 <-> 1001) needs two phases, neither of which has an ID
 * that is both a source and a target: running a phase twice is then the
 * same as running it once. */
static void test_convert_phases(void **unused)
{
	struct accord_idpair u[] = { { 1000, 1001 }, { 1001, 1000 }, { 1002, 1003 } };
	uint32_t avoid[] = { 1000, 1001, 1002, 4294900000u };
	struct accord_convert cv = { 0 };
	size_t p, i, j;

	(void)unused;
	assert_int_equal(accord_convert_build(&cv, u, 3, NULL, 0, avoid, 4), 0);
	assert_int_equal(cv.nphases, 2);
	for (p = 0; p < cv.nphases; p++)
		for (i = 0; i < cv.phase[p].nu; i++)
			for (j = 0; j < cv.phase[p].nu; j++)
				assert_true(cv.phase[p].u[i].from != cv.phase[p].u[j].to);
	/* the composition is the map asked for, and no temporary ID is one
	 * already on the storage */
	for (i = 0; i < 3; i++) {
		uint32_t id = u[i].from;

		for (p = 0; p < cv.nphases; p++)
			for (j = 0; j < cv.phase[p].nu; j++)
				if (cv.phase[p].u[j].from == id) {
					if (p == 0)
						assert_true(cv.phase[p].u[j].to != 4294900000u);
					id = cv.phase[p].u[j].to;
					break;
				}
		assert_int_equal(id, u[i].to);
	}
	accord_convert_free(&cv);
	/* no swap: one phase */
	assert_int_equal(accord_convert_build(&cv, u + 2, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(cv.nphases, 1);
	accord_convert_free(&cv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_edits_and_truncation),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_convert_phases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
