/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the RACF command text reader (common/racfimport.c).
 *
 * The whole input is one command text.  Whatever the bytes, the parse
 * succeeds (only -ENOMEM and -EFBIG are errors, and fuzz inputs are far
 * below 16 MiB), and what it returns keeps the promises racfimport.h
 * makes to accordctl: every command is complete and within RACF's limits
 * (a MAP has a user ID or MULTIID, never both; a filter; CRITERIA exactly
 * with MULTIID; a label of at most 32 characters; IDs that are RACF IDs,
 * upper case), every skip has a reason and a short text without control
 * characters, and the line numbers go forward and stay inside the text.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/racfimport.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool racf_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	size_t i;

	if (n == 0 || n > 8)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '@' || s[i] == '#' || s[i] == '$'))
			return false;
	return true;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Present values are non-empty and at most max characters. */
static bool fits(const char *s, size_t max)
{
	return !s || (s[0] && utf8_chars(s) <= max);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void check(const struct accord_racf_script *s, unsigned lines)
{
	unsigned last = 1;
	size_t i;

	for (i = 0; i < s->ncmds; i++) {
		const struct accord_racf_cmd *c = &s->cmds[i];

		if (c->line < last || c->line > lines)
			__builtin_trap();
		last = c->line;
		if (c->kind == ACCORD_RACF_MAP) {
			if ((c->id != NULL) == c->multiid)
				__builtin_trap();
			if (c->id && !racf_id(c->id))
				__builtin_trap();
			if (!c->sdn && !c->idn)
				__builtin_trap();
			if ((c->criteria != NULL) != c->multiid)
				__builtin_trap();
			if (!fits(c->sdn, 255) || !fits(c->idn, 255) ||
			    !fits(c->label, 32) || !fits(c->criteria, 255))
				__builtin_trap();
			if (c->crit_name || c->crit_user)
				__builtin_trap();
		} else if (c->kind == ACCORD_RACF_CRIT) {
			if (!c->crit_name || !fits(c->crit_name, 246) || !racf_id(c->crit_user))
				__builtin_trap();
			if (c->id || c->sdn || c->idn || c->label || c->criteria || c->multiid ||
			    c->notrust)
				__builtin_trap();
		} else {
			__builtin_trap();
		}
	}
	last = 1;
	for (i = 0; i < s->nskips; i++) {
		const struct accord_racf_skip *k = &s->skips[i];

		if (k->line < last || k->line > lines)
			__builtin_trap();
		last = k->line;
		if (!k->text || strlen(k->text) > 120 || !printable(k->text))
			__builtin_trap();
		if (!k->why || !k->why[0] || !printable(k->why))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct accord_racf_script *s = NULL;
	struct accord_err err = { 0 };
	unsigned lines = 1;
	char *text;
	size_t i;
	int r;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	/* an exact-size copy, so ASan sees a read one byte past the text */
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	r = accord_racf_parse(text, size, &s, &err);
#ifdef FUZZ_VERBOSE
	fprintf(stderr, "racf: %d %s (%zu commands, %zu skips)\n", r, err.msg,
		s ? s->ncmds : 0, s ? s->nskips : 0);
#endif
	if (r == 0) {
		if (!s)
			__builtin_trap();
		check(s, lines);
	} else if (r != -ENOMEM || s || err.code != r || !err.msg[0]) {
		__builtin_trap();
	}
	accord_racf_free(s);
	free(text);
	return 0;
}
