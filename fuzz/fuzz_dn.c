/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the distinguished-name parser and DER reader
 * (common/dn.c).
 *
 * The input, up to its first NUL, is parsed as a filter in every form
 * (automatic, RACF dotted, RFC 4514, slash; and with RACF's 255 limit),
 * and the whole input is read as the DER of an X.509 Name.  A refusal
 * must carry a message.  Whatever parses must be well formed (RDN and AVA
 * counts within the limits, each RDN a strictly sorted set, NUL-terminated
 * values), must match itself, and its keys must nest: the key of the k
 * least specific RDNs ends the key of the whole name.  Its RFC 4514
 * display must read back (in automatic and RFC 4514 form) to a name with
 * the same keys that matches it exactly both ways; so must its RACF
 * display read as RACF form, unless it holds #hex values (shown, not
 * readable).  Only a display longer than ACCORD_DN_MAX_TEXT may fail to
 * read back.  Any broken rule traps.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/dn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY_CAP 16384

static void check_refusal(int r, const struct accord_err *err,
			  const struct accord_dn *dn)
{
	if (dn || r != err->code || (r != -EINVAL && r != -ENOMEM) ||
	    err->msg[0] == '\0' || !memchr(err->msg, '\0', sizeof(err->msg)))
		__builtin_trap();
}

static void check_shape(const struct accord_dn *dn)
{
	size_t i, k;

	if (dn->nrdn > ACCORD_DN_MAX_RDNS || (dn->nrdn && !dn->rdn))
		__builtin_trap();
	for (i = 0; i < dn->nrdn; i++) {
		const struct accord_rdn *r = &dn->rdn[i];

		if (r->nava == 0 || r->nava > ACCORD_DN_MAX_AVAS)
			__builtin_trap();
		for (k = 0; k < r->nava; k++) {
			const struct accord_ava *a = &r->ava[k];

			if (a->value[a->len] != '\0' ||
			    !memchr(a->oid, '\0', sizeof(a->oid)))
				__builtin_trap();
			/* only #hex values may hold NUL bytes */
			if (!(a->flags & ACCORD_AVA_HEX) &&
			    memchr(a->value, '\0', a->len))
				__builtin_trap();
			if (k > 0) {
				const struct accord_ava *b = &r->ava[k - 1];
				int c = strcmp(b->oid, a->oid);

				/* a set: strictly increasing (no duplicates) */
				if (c > 0 || (c == 0 && (b->flags & ACCORD_AVA_HEX) ==
							(a->flags & ACCORD_AVA_HEX) &&
					      b->len == a->len &&
					      memcmp(b->value, a->value, a->len) == 0))
					__builtin_trap();
			}
		}
	}
}

static void check_keys(const struct accord_dn *dn, char *full, char *part)
{
	size_t c, fl, pl;
	int r;

	r = accord_dn_key(dn, dn->nrdn, full, KEY_CAP);
	if (r < 0) {
		if (r != -ENOSPC)
			__builtin_trap();
		return;
	}
	fl = (size_t)r;
	if (accord_dn_key(dn, dn->nrdn + 1, part, KEY_CAP) != -EINVAL)
		__builtin_trap();
	if (accord_dn_key(dn, dn->nrdn, part, fl) != -ENOSPC ||
	    accord_dn_key(dn, dn->nrdn, part, fl + 1) != r)
		__builtin_trap();
	for (c = 0; c < dn->nrdn; c++) {
		r = accord_dn_key(dn, c, part, KEY_CAP);
		if (r < 0)
			__builtin_trap();
		pl = (size_t)r;
		if (c == 0 ? pl != 0
			   : (pl >= fl || full[fl - pl - 1] != ',' ||
			      memcmp(full + fl - pl, part, pl) != 0))
			__builtin_trap();
	}
}

static void check_same(const struct accord_dn *a, const struct accord_dn *b,
		       char *ka, char *kb)
{
	size_t c;
	int ra, rb;

	if (a->nrdn != b->nrdn)
		__builtin_trap();
	for (c = 0; c <= a->nrdn; c++) {
		ra = accord_dn_key(a, c, ka, KEY_CAP);
		rb = accord_dn_key(b, c, kb, KEY_CAP);
		if (ra != rb || (ra >= 0 && strcmp(ka, kb) != 0))
			__builtin_trap();
	}
	if (a->nrdn &&
	    (!accord_dn_suffix_match(a, b, ACCORD_MATCH_EXACT) ||
	     !accord_dn_suffix_match(b, a, ACCORD_MATCH_EXACT) ||
	     !accord_dn_suffix_match(a, b, ACCORD_MATCH_LDAP) ||
	     !accord_dn_suffix_match(b, a, ACCORD_MATCH_LDAP)))
		__builtin_trap();
}

/* The display in style reads back in form. */
static void check_reread(const struct accord_dn *dn, enum accord_dn_style style,
			 enum accord_dn_form form, char *text, char *ka,
			 char *kb)
{
	struct accord_err err = { 0 };
	struct accord_dn *back = NULL;
	int r = accord_dn_format(dn, style, text, KEY_CAP);

	if (r < 0) {
		if (r != -ENOSPC)
			__builtin_trap();
		return;
	}
	if (accord_dn_format(dn, style, text, (size_t)r) != -ENOSPC ||
	    accord_dn_format(dn, style, text, (size_t)r + 1) != r)
		__builtin_trap();
	r = accord_dn_parse(text, form, 0, &back, &err);
	if (r != 0) {
#ifdef FUZZ_VERBOSE
		fprintf(stderr, "'%s' does not read back: %s\n", text, err.msg);
#endif
		if (strlen(text) <= ACCORD_DN_MAX_TEXT)
			__builtin_trap();
		return;
	}
	check_same(dn, back, ka, kb);
	accord_dn_free(back);
}

static void check_name(const struct accord_dn *dn)
{
	static char a[KEY_CAP], b[KEY_CAP], text[KEY_CAP];
	bool hex = false;
	size_t i, k, count;

	check_shape(dn);
	check_keys(dn, a, b);
	if (dn->nrdn == 0) {
		if (accord_dn_suffix_match(dn, dn, ACCORD_MATCH_LDAP))
			__builtin_trap();
		return;
	}
	if (!accord_dn_suffix_match(dn, dn, ACCORD_MATCH_EXACT) ||
	    !accord_dn_suffix_match(dn, dn, ACCORD_MATCH_LDAP))
		__builtin_trap();
	for (i = 0; i < dn->nrdn; i++) {
		struct accord_rdn one = { dn->rdn[i].ava, 1 };
		struct accord_dn start = { &one, 1, 0 };

		for (k = 0; k < dn->rdn[i].nava; k++)
			hex |= dn->rdn[i].ava[k].flags & ACCORD_AVA_HEX;
		/* a starting point taken from the name is found no later */
		if (accord_dn_starting_point(dn, &start, &count) != 0 ||
		    count < dn->nrdn - i || count > dn->nrdn)
			__builtin_trap();
	}
	check_reread(dn, ACCORD_DN_STYLE_RFC4514, ACCORD_DN_AUTO, text, a, b);
	check_reread(dn, ACCORD_DN_STYLE_RFC4514, ACCORD_DN_RFC4514, text, a, b);
	if (!hex)
		check_reread(dn, ACCORD_DN_STYLE_RACF, ACCORD_DN_RACF, text, a, b);
}

static void run_text(const char *text, enum accord_dn_form form, unsigned flags)
{
	struct accord_err err = { 0 };
	struct accord_dn *dn = NULL;
	int r = accord_dn_parse(text, form, flags, &dn, &err);

#ifdef FUZZ_VERBOSE
	fprintf(stderr, "form %d flags %u: %d %s\n", (int)form, flags, r, err.msg);
#endif
	if (r != 0) {
		check_refusal(r, &err, dn);
		return;
	}
	if (!dn || dn->nrdn == 0)
		__builtin_trap();
	check_name(dn);
	accord_dn_free(dn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct accord_err err = { 0 };
	struct accord_dn *dn = NULL;
	uint8_t *der;
	char *text;
	int r;

	/* the text stops at the first NUL, as a C string does */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	run_text(text, ACCORD_DN_AUTO, 0);
	run_text(text, ACCORD_DN_AUTO, ACCORD_DN_RACF_STRICT);
	run_text(text, ACCORD_DN_RACF, 0);
	run_text(text, ACCORD_DN_RFC4514, 0);
	run_text(text, ACCORD_DN_X500, 0);
	free(text);

	/* an exact-size copy, so ASan sees a read past the end */
	der = malloc(size ? size : 1);
	if (!der)
		return 0;
	memcpy(der, data, size);
	r = accord_dn_from_der(der, size, &dn, &err);
	if (r != 0)
		check_refusal(r, &err, dn);
	else
		check_name(dn);
	accord_dn_free(dn);
	free(der);
	return 0;
}
