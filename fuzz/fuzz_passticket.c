/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: PassTicket parsing and decoding (common/passticket.c).
 *
 * Input: byte 0 picks the key kind (bits 0-1: legacy, enhanced UPPER,
 * enhanced MIXED; bit 2: legacy key KEYMASKED), bytes 1-8 a time to
 * generate at, bytes 9-16 "now" (both little-endian), then text fields
 * separated by '\n': ticket, user, application, hex key.  Missing or
 * refused names and keys fall back to fixed ones, so every input reaches
 * the decoder.
 *
 * Invariants: refusals carry a message; a ticket that decodes generates
 * back to itself (folded to upper case for legacy and UPPER); verify
 * agrees with decode; every generated ticket decodes to its time.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/passticket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELD_MAX 1100

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The next '\n'-terminated field, NUL-terminated in out (cut at FIELD_MAX:
 * the parsers see over-long input, just not all of it). */
static const uint8_t *field(const uint8_t *p, const uint8_t *end, char *out,
			    int *present)
{
	size_t n = 0;

	*present = p < end;
	while (p < end && *p != '\n') {
		if (n < FIELD_MAX - 1)
			out[n++] = (char)*p;
		p++;
	}
	out[n] = '\0';
	return p < end ? p + 1 : p;
}

static void check_err(int r, const struct accord_err *err)
{
	if (r < 0 && (r != err->code || err->msg[0] == '\0' ||
		      !memchr(err->msg, '\0', sizeof(err->msg))))
		__builtin_trap();
	if (r > 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char ticket[FIELD_MAX], user_in[FIELD_MAX], appl_in[FIELD_MAX],
		hex[FIELD_MAX];
	struct accord_err err = { 0 };
	struct accord_pt_key k;
	char user[ACCORD_PT_ID_MAX + 1], appl[ACCORD_PT_ID_MAX + 1];
	char out[ACCORD_PT_LEN + 1], folded[ACCORD_PT_LEN + 1];
	const uint8_t *p, *end = data + size;
	uint64_t t_in, now, t = 0, tg = 0, mask;
	int kind, masked, have, r, rv, i;
	bool fold;

	if (size < 17)
		return 0;
	kind = data[0] & 3;
	if (kind == 3)
		kind = 0;
	masked = kind == 0 && (data[0] & 4);
	t_in = le64(data + 1);
	now = le64(data + 9);
	p = data + 17;
	p = field(p, end, ticket, &have);
	p = field(p, end, user_in, &have);
	p = field(p, end, appl_in, &have);
	field(p, end, hex, &have);

	memset(&k, 0, sizeof(k));
	k.alg = kind == 0 ? ACCORD_PT_LEGACY : ACCORD_PT_ENHANCED;
	k.type = kind == 2 ? ACCORD_PT_MIXED : ACCORD_PT_UPPER;
	k.window = kind == 0 ? ACCORD_PT_WINDOW : 1 + (uint32_t)(data[0] >> 3) * 19;
	mask = kind == 0 ? UINT64_C(0xffffffff)
			 : kind == 1 ? (UINT64_C(1) << 41) - 1 : UINT64_C(0xffffffffffff);
	fold = kind != 2;

	r = accord_pt_key_from_hex(hex, k.alg, masked, &k, &err);
	check_err(r, &err);
	if (r < 0) {
		r = accord_pt_key_from_hex(kind == 0 ? "E001193519561977"
					   : "00112233445566778899AABBCCDDEEFF"
					     "00112233445566778899AABBCCDDEEFF",
					   k.alg, false, &k, &err);
		if (r != 0)
			__builtin_trap();
	}
	if ((kind == 0 && k.len != 8) ||
	    (kind != 0 && (k.len < ACCORD_PT_HMAC_MIN || k.len > ACCORD_PT_HMAC_MAX)))
		__builtin_trap();

	r = accord_pt_racf_id("user ID", user_in, user, &err);
	check_err(r, &err);
	if (r < 0)
		strcpy(user, "IBMUSER");
	r = accord_pt_racf_id("application name", appl_in, appl, &err);
	check_err(r, &err);
	if (r < 0)
		strcpy(appl, "TSOR001");
	for (i = 0; user[i]; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@#$", user[i]) || i >= 8)
			__builtin_trap();

	/* the presented ticket */
	r = accord_pt_decode(&k, user, appl, ticket, &t, &err);
	check_err(r, &err);
	rv = accord_pt_verify(&k, user, appl, ticket, now, &tg, &err);
	check_err(rv, &err);
	if (r == 0) {
		if (t > mask || (rv != 0 && rv != -ETIME))
			__builtin_trap();
		if (accord_pt_generate(&k, user, appl, t, out, &err) != 0)
			__builtin_trap();
		for (i = 0; i < ACCORD_PT_LEN; i++)
			folded[i] = fold && ticket[i] >= 'a' && ticket[i] <= 'z'
				    ? (char)(ticket[i] - 'a' + 'A') : ticket[i];
		folded[ACCORD_PT_LEN] = '\0';
		if (strcmp(out, folded) != 0)
			__builtin_trap();
		if (((tg - t) & (kind == 0 ? UINT64_C(0xffffffff)
					   : UINT64_C(0xffffffffffff))) != 0)
			__builtin_trap();
	} else if (rv != r) {
		__builtin_trap();
	}

	/* a generated ticket */
	if (accord_pt_generate(&k, user, appl, t_in, out, &err) != 0)
		__builtin_trap();
	if (accord_pt_decode(&k, user, appl, out, &t, &err) != 0 || t != (t_in & mask))
		__builtin_trap();
	accord_pt_key_wipe(&k);
	return 0;
}
