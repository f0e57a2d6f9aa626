/* SPDX-License-Identifier: MIT */
/* RACF PassTickets (common/passticket.c) against the vectors of
 * ../shared/spec/passticket.md §5, round trips over the whole time range,
 * the validation window, and refusals. */
#include "unit_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <accord/passticket.h>

#include "passticket_priv.h"

#define T1700 UINT64_C(1700000000)
#define K64_HEX                                                              \
	"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F" \
	"202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F"
#define K32_HEX                                                              \
	"00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible runs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static struct accord_pt_key legacy_key(const char *hex)
{
	struct accord_pt_key k;
	struct accord_err err = { 0 };

	memset(&k, 0, sizeof(k));
	k.alg = ACCORD_PT_LEGACY;
	k.window = ACCORD_PT_WINDOW;
	k.replay_protection = true;
	if (accord_pt_key_from_hex(hex, ACCORD_PT_LEGACY, false, &k, &err) != 0)
		fail_msg("legacy key %s: %s", hex, err.msg);
	return k;
}

static struct accord_pt_key enh_key(const char *hex, uint32_t type,
				    uint32_t window)
{
	struct accord_pt_key k;
	struct accord_err err = { 0 };

	memset(&k, 0, sizeof(k));
	k.alg = ACCORD_PT_ENHANCED;
	k.type = type;
	k.window = window;
	if (accord_pt_key_from_hex(hex, ACCORD_PT_ENHANCED, false, &k, &err) != 0)
		fail_msg("enhanced key: %s", err.msg);
	return k;
}

static void gen(const struct accord_pt_key *k, const char *user,
		const char *appl, uint64_t t, char out[ACCORD_PT_LEN + 1])
{
	struct accord_err err = { 0 };

	if (accord_pt_generate(k, user, appl, t, out, &err) != 0)
		fail_msg("generate %s/%s at %llu: %s", user, appl,
			 (unsigned long long)t, err.msg);
	assert_int_equal(strlen(out), ACCORD_PT_LEN);
}

static uint64_t dec(const struct accord_pt_key *k, const char *user,
		    const char *appl, const char *ticket)
{
	struct accord_err err = { 0 };
	uint64_t t = UINT64_MAX;

	if (accord_pt_decode(k, user, appl, ticket, &t, &err) != 0)
		fail_msg("decode %s/%s %s: %s", user, appl, ticket, err.msg);
	return t;
}

/* ---- names and keys ------------------------------------------------------ */

static void test_racf_id(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "ibmuser", "IBMUSER" }, { "A", "A" }, { "ABCDEFGH", "ABCDEFGH" },
		{ "@#$", "@#$" }, { "x$1", "X$1" }, { "tsoR001", "TSOR001" },
		{ "12345678", "12345678" },
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "", "is empty" }, { "ABCDEFGHI", "longer than 8" },
		{ " IBM", "position 1" }, { "IBM ", "position 4" },
		{ "a-b", "position 2" }, { "a.b", "position 2" },
		{ "ab\xc3\xa9", "position 3" }, { "a_b", "position 2" },
		{ "a\tb", "position 2" },
	};
	struct accord_err err;
	char out[ACCORD_PT_ID_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (accord_pt_racf_id("user ID", ok[i].in, out, &err) != 0)
			fail_msg("'%s' refused: %s", ok[i].in, err.msg);
		assert_string_equal(out, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		strcpy(out, "junk");
		if (accord_pt_racf_id("application name", bad[i].in, out, &err) != -EINVAL)
			fail_msg("'%s' accepted", bad[i].in);
		assert_int_equal(err.code, -EINVAL);
		assert_contains(err.msg, "application name");
		assert_contains(err.msg, bad[i].msg);
		assert_string_equal(out, "");
	}
	assert_int_equal(accord_pt_racf_id("user ID", NULL, out, &err), -EINVAL);
}

static void test_key_from_hex(void **state)
{
	static const unsigned char clear[8] = {
		0xe0, 0x01, 0x19, 0x35, 0x19, 0x56, 0x19, 0x77,
	};
	struct accord_pt_key k, k2;
	struct accord_err err = { 0 };
	char hex[600];
	size_t i;

	(void)state;
	memset(&k, 0xaa, sizeof(k));
	assert_int_equal(accord_pt_key_from_hex("E001193519561977", ACCORD_PT_LEGACY,
						false, &k, &err), 0);
	assert_int_equal(k.len, 8);
	assert_memory_equal(k.key, clear, 8);
	assert_int_equal(k.key[8], 0);   /* the rest is wiped */
	assert_int_equal(accord_pt_key_from_hex("e001193519561977", ACCORD_PT_LEGACY,
						false, &k, &err), 0);
	assert_memory_equal(k.key, clear, 8);

	/* KEYMASKED: masked = clear XOR BBFCD18E826660B6 */
	assert_int_equal(accord_pt_key_from_hex("5BFDC8BB9B3079C1", ACCORD_PT_LEGACY,
						true, &k, &err), 0);
	assert_memory_equal(k.key, clear, 8);
	/* and a random key both ways round */
	for (i = 0; i < 8; i++)
		k2.key[i] = (unsigned char)rnd();
	for (i = 0; i < 8; i++)
		sprintf(hex + 2 * i, "%02X", k2.key[i] ^
			(unsigned char[]){ 0xbb, 0xfc, 0xd1, 0x8e, 0x82, 0x66, 0x60, 0xb6 }[i]);
	assert_int_equal(accord_pt_key_from_hex(hex, ACCORD_PT_LEGACY, true, &k, &err), 0);
	assert_memory_equal(k.key, k2.key, 8);

	/* refusals leave the key alone and never echo key material */
	memcpy(&k2, &k, sizeof(k));
	assert_int_equal(accord_pt_key_from_hex("E00119351956197", ACCORD_PT_LEGACY,
						false, &k, &err), -EINVAL);
	assert_contains(err.msg, "16 hex digits");
	assert_int_equal(accord_pt_key_from_hex("E0011935195619770", ACCORD_PT_LEGACY,
						false, &k, &err), -EINVAL);
	assert_int_equal(accord_pt_key_from_hex("E00119351956197G", ACCORD_PT_LEGACY,
						false, &k, &err), -EINVAL);
	assert_contains(err.msg, "position 16");
	assert_not_contains(err.msg, "E0011");
	assert_int_equal(accord_pt_key_from_hex("E0011935 9561977", ACCORD_PT_LEGACY,
						false, &k, &err), -EINVAL);
	assert_int_equal(accord_pt_key_from_hex("", ACCORD_PT_LEGACY, false, &k, &err),
			 -EINVAL);
	assert_int_equal(accord_pt_key_from_hex(NULL, ACCORD_PT_LEGACY, false, &k, &err),
			 -EINVAL);
	assert_int_equal(accord_pt_key_from_hex("E001193519561977", 3, false, &k, &err),
			 -EINVAL);
	assert_memory_equal(&k, &k2, sizeof(k));

	/* enhanced: 64..512 hex digits, even */
	assert_int_equal(accord_pt_key_from_hex(K64_HEX, ACCORD_PT_ENHANCED, false,
						&k, &err), 0);
	assert_int_equal(k.len, 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(k.key[i], i);
	memset(hex, 'a', sizeof(hex));
	hex[64] = '\0';
	assert_int_equal(accord_pt_key_from_hex(hex, ACCORD_PT_ENHANCED, false, &k, &err), 0);
	assert_int_equal(k.len, 32);
	hex[63] = '\0';
	assert_int_equal(accord_pt_key_from_hex(hex, ACCORD_PT_ENHANCED, false, &k, &err),
			 -EINVAL);
	memset(hex, 'a', sizeof(hex));
	hex[62] = '\0';
	assert_int_equal(accord_pt_key_from_hex(hex, ACCORD_PT_ENHANCED, false, &k, &err),
			 -EINVAL);
	memset(hex, 'F', sizeof(hex));
	hex[512] = '\0';
	assert_int_equal(accord_pt_key_from_hex(hex, ACCORD_PT_ENHANCED, false, &k, &err), 0);
	assert_int_equal(k.len, 256);
	hex[512] = 'F';
	hex[514] = '\0';
	assert_int_equal(accord_pt_key_from_hex(hex, ACCORD_PT_ENHANCED, false, &k, &err),
			 -EINVAL);
	hex[513] = '\0';
	assert_int_equal(accord_pt_key_from_hex(hex, ACCORD_PT_ENHANCED, false, &k, &err),
			 -EINVAL);
	assert_int_equal(accord_pt_key_from_hex(K64_HEX, ACCORD_PT_ENHANCED, true,
						&k, &err), -EINVAL);
	assert_contains(err.msg, "KEYMASKED");

	accord_pt_key_wipe(&k);
	memset(&k2, 0, sizeof(k2));
	assert_memory_equal(&k, &k2, sizeof(k));
	accord_pt_key_wipe(NULL);
}

/* ---- legacy steps ------------------------------------------------------------ */

static void test_translate(void **state)
{
	char out[ACCORD_PT_LEN + 1];
	uint32_t r5 = 0, x;
	int i;

	(void)state;
	accord_pt_translate(0x07247F79, out);
	assert_string_equal(out, "QHOAH1TV");
	assert_int_equal(accord_pt_untranslate("QHOAH1TV", &r5), 0);
	assert_int_equal(r5, 0x07247F79);
	assert_int_equal(accord_pt_untranslate("qhoah1tv", &r5), 0);
	assert_int_equal(r5, 0x07247F79);
	/* unique preimage: every R5 comes back */
	for (i = 0; i < 200000; i++) {
		x = (uint32_t)rnd();
		accord_pt_translate(x, out);
		assert_int_equal(accord_pt_untranslate(out, &r5), 0);
		assert_int_equal(r5, x);
	}
	accord_pt_translate(0, out);
	assert_int_equal(accord_pt_untranslate(out, &r5), 0);
	assert_int_equal(r5, 0);
	accord_pt_translate(0xffffffff, out);
	assert_int_equal(accord_pt_untranslate(out, &r5), 0);
	assert_int_equal(r5, 0xffffffff);
	/* '9' = 35 = 100011b: its neighbour must start with 11, which no
	 * window of index 35 does */
	assert_int_equal(accord_pt_untranslate("99999999", &r5), -EINVAL);
	assert_int_equal(accord_pt_untranslate("QHOAH1T", &r5), -EINVAL);
	assert_int_equal(accord_pt_untranslate("QHOAH1TVX", &r5), -EINVAL);
	assert_int_equal(accord_pt_untranslate("QHOAH1T-", &r5), -EINVAL);
	assert_int_equal(accord_pt_untranslate(NULL, &r5), -EINVAL);
}

static void test_permute(void **state)
{
	unsigned t, x;

	(void)state;
	assert_int_equal(accord_pt_permute(1, 0x017B), 0xA32A);
	assert_int_equal(accord_pt_unpermute(1, 0xA32A), 0x017B);
	/* table 6 keeps bit 1 and reverses bits 2..16 */
	assert_int_equal(accord_pt_permute(6, 0x8000), 0x8000);
	assert_int_equal(accord_pt_permute(6, 0x0001), 0x4000);
	for (t = 1; t <= 6; t++)
		for (x = 0; x <= 0xffff; x++) {
			if (accord_pt_unpermute(t, accord_pt_permute(t, (uint16_t)x)) != x)
				fail_msg("table %u: %04x does not come back", t, x);
			/* a permutation keeps the number of bits */
			assert_int_equal(__builtin_popcount(accord_pt_permute(t, (uint16_t)x)),
					 __builtin_popcount(x));
		}
}

/* ---- vectors ------------------------------------------------------------------- */

static void test_legacy_vectors(void **state)
{
	static const struct {
		const char *key, *user, *appl;
		uint64_t t;
		const char *ticket;
	} v[] = {
		{ "E001193519561977", "MIKEM", "TSOSYS1", 1111111, "AEPRRZ3S" },
		{ "E001193519561977", "IBMUSER", "TSOR001", 1700000000, "ZVQLMCAN" },
		{ "0123456789ABCDEF", "IBMUSER", "OMVSAPPL", 1700000000, "DMJS91WA" },
		{ "0123456789ABCDEF", "ZOWEUSER", "IZUDFLT", 1735689600, "SIFTQOEN" },
	};
	struct accord_pt_key k;
	struct accord_err err = { 0 };
	char out[ACCORD_PT_LEN + 1], lower[ACCORD_PT_LEN + 1];
	uint64_t tg;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		k = legacy_key(v[i].key);
		gen(&k, v[i].user, v[i].appl, v[i].t, out);
		if (strcmp(out, v[i].ticket) != 0)
			fail_msg("vector %zu: %s, want %s", i, out, v[i].ticket);
		assert_int_equal(dec(&k, v[i].user, v[i].appl, v[i].ticket), v[i].t);
		/* Linux (lower-case) names give the same ticket */
		for (j = 0; v[i].user[j]; j++)
			lower[j] = (char)(v[i].user[j] | 0x20);
		lower[j] = '\0';
		gen(&k, lower, v[i].appl, v[i].t, out);
		assert_string_equal(out, v[i].ticket);
		/* legacy tickets fold to upper case */
		for (j = 0; j < ACCORD_PT_LEN; j++)
			lower[j] = (char)(v[i].ticket[j] >= 'A' ? v[i].ticket[j] | 0x20
							       : v[i].ticket[j]);
		lower[ACCORD_PT_LEN] = '\0';
		assert_int_equal(accord_pt_verify(&k, v[i].user, v[i].appl, lower,
						  v[i].t + 17, &tg, &err), 0);
		assert_int_equal(tg, v[i].t);
		accord_pt_key_wipe(&k);
	}
	/* the same with the key entered KEYMASKED */
	memset(&k, 0, sizeof(k));
	k.alg = ACCORD_PT_LEGACY;
	k.window = 600;
	assert_int_equal(accord_pt_key_from_hex("5BFDC8BB9B3079C1", ACCORD_PT_LEGACY,
						true, &k, &err), 0);
	gen(&k, "MIKEM", "TSOSYS1", 1111111, out);
	assert_string_equal(out, "AEPRRZ3S");
	/* DES ignores the parity bits: flipping each byte's low bit changes
	 * nothing */
	k = legacy_key("E100183418571876");
	gen(&k, "MIKEM", "TSOSYS1", 1111111, out);
	assert_string_equal(out, "AEPRRZ3S");
}

static void test_enhanced_vectors(void **state)
{
	static const struct {
		const char *key, *user, *appl;
		uint64_t t;
		uint32_t type;
		const char *ticket;
	} v[] = {
		{ K64_HEX, "IBMUSER", "TSOR001", 1700000000, ACCORD_PT_UPPER, "1TAR4UNX" },
		{ K64_HEX, "IBMUSER", "TSOR001", 1700000000, ACCORD_PT_MIXED, "pqzissRU" },
		{ K32_HEX, "ZOWEUSER", "IZUDFLT", 1735689600, ACCORD_PT_UPPER, "38LFLUBP" },
		{ K32_HEX, "ZOWEUSER", "IZUDFLT", 1735689600, ACCORD_PT_MIXED, "spe2CGWD" },
	};
	struct accord_pt_key k;
	struct accord_err err = { 0 };
	char out[ACCORD_PT_LEN + 1];
	uint64_t tg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		k = enh_key(v[i].key, v[i].type, 600);
		gen(&k, v[i].user, v[i].appl, v[i].t, out);
		if (strcmp(out, v[i].ticket) != 0)
			fail_msg("vector %zu: %s, want %s", i, out, v[i].ticket);
		assert_int_equal(dec(&k, v[i].user, v[i].appl, v[i].ticket), v[i].t);
		assert_int_equal(accord_pt_verify(&k, v[i].user, v[i].appl, v[i].ticket,
						  v[i].t - 600, &tg, &err), 0);
		assert_int_equal(tg, v[i].t);
		accord_pt_key_wipe(&k);
	}
	/* UPPER folds, MIXED does not */
	k = enh_key(K64_HEX, ACCORD_PT_UPPER, 600);
	assert_int_equal(dec(&k, "IBMUSER", "TSOR001", "1tar4unx"), T1700);
	k = enh_key(K64_HEX, ACCORD_PT_MIXED, 600);
	assert_int_not_equal(accord_pt_verify(&k, "IBMUSER", "TSOR001", "PQZISSRU",
					      T1700, &tg, &err), 0);
	assert_int_not_equal(accord_pt_verify(&k, "IBMUSER", "TSOR001", "pqzissru",
					      T1700, &tg, &err), 0);
}

/* Keys longer than SHA-512's block are hashed first (plain HMAC). */
static void test_enhanced_long_key(void **state)
{
	struct accord_pt_key k, kh;
	unsigned char md[64];
	unsigned int mdlen = 0;
	char a[ACCORD_PT_LEN + 1], b[ACCORD_PT_LEN + 1];
	size_t i;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.alg = ACCORD_PT_ENHANCED;
	k.type = ACCORD_PT_MIXED;
	k.window = 600;
	k.len = ACCORD_PT_HMAC_MAX;
	for (i = 0; i < k.len; i++)
		k.key[i] = (unsigned char)rnd();
	assert_true(EVP_Digest(k.key, k.len, md, &mdlen, EVP_sha512(), NULL));
	assert_int_equal(mdlen, 64);
	memcpy(&kh, &k, sizeof(k));
	memset(kh.key, 0, sizeof(kh.key));
	memcpy(kh.key, md, 64);
	kh.len = 64;
	for (i = 0; i < 20; i++) {
		uint64_t t = rnd() & UINT64_C(0xffffffffffff);

		gen(&k, "LONGKEY", "APPL", t, a);
		gen(&kh, "LONGKEY", "APPL", t, b);
		assert_string_equal(a, b);
		assert_int_equal(dec(&k, "LONGKEY", "APPL", a), t);
	}
}

/* ---- round trips ------------------------------------------------------------------ */

static void test_legacy_round_trip(void **state)
{
	static const uint64_t edge[] = {
		0, 1, 599, 600, (1u << 28) - 1, 1u << 28, (1u << 31) - 1, 1u << 31,
		UINT32_MAX - 1, UINT32_MAX,
	};
	struct accord_pt_key k = legacy_key("0123456789ABCDEF");
	char out[ACCORD_PT_LEN + 1], out2[ACCORD_PT_LEN + 1];
	uint64_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		gen(&k, "IBMUSER", "TSOR001", edge[i], out);
		assert_int_equal(dec(&k, "IBMUSER", "TSOR001", out), edge[i]);
	}
	for (i = 0; i < 3000; i++) {
		t = rnd() & UINT32_MAX;
		gen(&k, "IBMUSER", "TSOR001", t, out);
		assert_int_equal(dec(&k, "IBMUSER", "TSOR001", out), t);
	}
	/* time is taken mod 2^32 */
	gen(&k, "IBMUSER", "TSOR001", T1700, out);
	gen(&k, "IBMUSER", "TSOR001", T1700 + (UINT64_C(1) << 32), out2);
	assert_string_equal(out, out2);
	/* neighbouring seconds give different tickets */
	gen(&k, "IBMUSER", "TSOR001", T1700 + 1, out2);
	assert_string_not_equal(out, out2);
}

static void test_enhanced_round_trip(void **state)
{
	struct accord_pt_key up = enh_key(K32_HEX, ACCORD_PT_UPPER, 600);
	struct accord_pt_key mx = enh_key(K32_HEX, ACCORD_PT_MIXED, 600);
	char out[ACCORD_PT_LEN + 1];
	uint64_t t, m48 = UINT64_C(0xffffffffffff), m41 = (UINT64_C(1) << 41) - 1;
	size_t i, j;

	(void)state;
	for (i = 0; i < 1500; i++) {
		t = rnd() & m48;
		gen(&mx, "ZOWEUSER", "IZUDFLT", t, out);
		for (j = 0; j < ACCORD_PT_LEN; j++)
			assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					       "abcdefghijklmnopqrstuvwxyz-_", out[j]));
		assert_int_equal(dec(&mx, "ZOWEUSER", "IZUDFLT", out), t);

		t = rnd() & m41;
		gen(&up, "ZOWEUSER", "IZUDFLT", t, out);
		for (j = 0; j < ACCORD_PT_LEN; j++)
			assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", out[j]));
		assert_int_equal(dec(&up, "ZOWEUSER", "IZUDFLT", out), t);
	}
	/* the edges of both ranges */
	gen(&mx, "Z", "A", 0, out);
	assert_int_equal(dec(&mx, "Z", "A", out), 0);
	gen(&mx, "Z", "A", m48, out);
	assert_int_equal(dec(&mx, "Z", "A", out), m48);
	gen(&up, "Z", "A", 0, out);
	assert_int_equal(dec(&up, "Z", "A", out), 0);
	gen(&up, "Z", "A", m41, out);
	assert_int_equal(dec(&up, "Z", "A", out), m41);
	/* UPPER carries 41 bits: a time past 2^41 s (year 71,700) comes
	 * back modulo 2^41; enhanced time is taken mod 2^48 */
	gen(&up, "Z", "A", T1700 + (UINT64_C(1) << 41), out);
	assert_int_equal(dec(&up, "Z", "A", out), T1700);
	gen(&mx, "Z", "A", T1700 + (UINT64_C(1) << 48), out);
	assert_int_equal(dec(&mx, "Z", "A", out), T1700);
}

/* ---- validation ---------------------------------------------------------------------- */

/* Tickets at now + d for d around 0 and around +-window: accepted exactly
 * when |d| <= window, and the generation time comes back either way. */
static void check_window(const struct accord_pt_key *k, uint64_t now)
{
	const int64_t w = (int64_t)k->window;
	const int64_t ds[] = { -w - 1, -w, -w + 1, -1, 0, 1, w - 1, w, w + 1, -86400 };
	struct accord_err err;
	char out[ACCORD_PT_LEN + 1];
	uint64_t t, tg;
	size_t i;
	int want;

	for (i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		t = now + (uint64_t)ds[i];
		want = ds[i] < -w || ds[i] > w ? -ETIME : 0;
		gen(k, "IBMUSER", "TSOR001", t, out);
		memset(&err, 0, sizeof(err));
		tg = 0;
		if (accord_pt_verify(k, "IBMUSER", "TSOR001", out, now, &tg, &err) != want)
			fail_msg("now %llu d %lld: want %d, got %d (%s)",
				 (unsigned long long)now, (long long)ds[i], want,
				 err.code, err.msg);
		assert_int_equal(tg, t);
		if (want)
			assert_contains(err.msg, "outside the window");
	}
}

static void test_verify_window(void **state)
{
	struct accord_pt_key lk = legacy_key("E001193519561977");
	struct accord_pt_key up = enh_key(K64_HEX, ACCORD_PT_UPPER, 600);
	struct accord_pt_key mx = enh_key(K64_HEX, ACCORD_PT_MIXED, 300);
	struct accord_err err = { 0 };
	char out[ACCORD_PT_LEN + 1];
	uint64_t tg;

	(void)state;
	check_window(&lk, T1700);
	check_window(&up, T1700);
	check_window(&mx, T1700);
	mx.window = 1;
	check_window(&mx, T1700);

	/* far away: -ETIME, and the time says how far */
	gen(&lk, "IBMUSER", "TSOR001", T1700 - 86400, out);
	assert_int_equal(accord_pt_verify(&lk, "IBMUSER", "TSOR001", out, T1700, &tg,
					  &err), -ETIME);
	assert_int_equal(tg, T1700 - 86400);
	assert_contains(err.msg, "86400 s ago");
	gen(&up, "IBMUSER", "TSOR001", T1700 + 3600, out);
	assert_int_equal(accord_pt_verify(&up, "IBMUSER", "TSOR001", out, T1700, &tg,
					  &err), -ETIME);
	assert_contains(err.msg, "3600 s in the future");

	/* a window outside 1..600 is a broken key */
	lk.window = 0;
	assert_int_equal(accord_pt_verify(&lk, "IBMUSER", "TSOR001", out, T1700, &tg,
					  &err), -EINVAL);
	lk.window = 601;
	assert_int_equal(accord_pt_verify(&lk, "IBMUSER", "TSOR001", out, T1700, &tg,
					  &err), -EINVAL);
	assert_contains(err.msg, "window");
}

/* Legacy time is 32-bit unsigned: it wraps in 2106, not 2038. */
static void test_verify_wrap(void **state)
{
	struct accord_pt_key k = legacy_key("0123456789ABCDEF");
	const uint64_t w32 = UINT64_C(1) << 32;
	char out[ACCORD_PT_LEN + 1];
	uint64_t tg;

	(void)state;
	check_window(&k, w32 - 300);
	check_window(&k, w32);
	check_window(&k, w32 + 300);
	check_window(&k, (UINT64_C(1) << 31));      /* 2038 */
	check_window(&k, 3 * w32 + 5);
	/* generated just after the wrap, checked just before it */
	gen(&k, "IBMUSER", "TSOR001", w32 + 200, out);
	assert_int_equal(dec(&k, "IBMUSER", "TSOR001", out), 200);
	assert_int_equal(accord_pt_verify(&k, "IBMUSER", "TSOR001", out, w32 - 100,
					  &tg, NULL), 0);
	assert_int_equal(tg, w32 + 200);
	gen(&k, "IBMUSER", "TSOR001", w32 - 200, out);
	assert_int_equal(accord_pt_verify(&k, "IBMUSER", "TSOR001", out, w32 + 300,
					  &tg, NULL), 0);
	assert_int_equal(tg, w32 - 200);
	assert_int_equal(accord_pt_verify(&k, "IBMUSER", "TSOR001", out, w32 + 401,
					  &tg, NULL), -ETIME);
	/* in 1970, a ticket of "before 1970" is the one of 2106 */
	gen(&k, "IBMUSER", "TSOR001", w32 - 200, out);
	assert_int_equal(accord_pt_verify(&k, "IBMUSER", "TSOR001", out, 100, &tg, NULL), 0);
	assert_int_equal(tg, w32 - 200);

	/* enhanced wraps at 2^48 */
	k = enh_key(K32_HEX, ACCORD_PT_MIXED, 600);
	check_window(&k, (UINT64_C(1) << 48) - 10);
}

static void test_ids(void **state)
{
	static const char *const users[] = {
		"A", "ABCDEFGH", "@#$", "$SYS#1@", "#1", "@", "12345678", "Z9$",
	};
	struct accord_pt_key keys[3];
	char out[ACCORD_PT_LEN + 1], seen[8][ACCORD_PT_LEN + 1];
	uint64_t tg;
	size_t i, j, n;

	(void)state;
	keys[0] = legacy_key("0123456789ABCDEF");
	keys[1] = enh_key(K32_HEX, ACCORD_PT_UPPER, 600);
	keys[2] = enh_key(K32_HEX, ACCORD_PT_MIXED, 600);
	for (j = 0; j < 3; j++) {
		n = sizeof(users) / sizeof(users[0]);
		for (i = 0; i < n; i++) {
			gen(&keys[j], users[i], "APPL@#$1", T1700, out);
			assert_int_equal(accord_pt_verify(&keys[j], users[i], "APPL@#$1",
							  out, T1700 + 5, &tg, NULL), 0);
			assert_int_equal(tg, T1700);
			strcpy(seen[i], out);
		}
		/* distinct users, distinct tickets */
		for (i = 0; i < n; i++) {
			size_t m;

			for (m = i + 1; m < n; m++)
				assert_string_not_equal(seen[i], seen[m]);
		}
		/* 1- and 8-character application names */
		gen(&keys[j], "IBMUSER", "A", T1700, out);
		assert_int_equal(dec(&keys[j], "IBMUSER", "A", out), T1700);
		gen(&keys[j], "IBMUSER", "ABCDEFGH", T1700, out);
		assert_int_equal(dec(&keys[j], "IBMUSER", "ABCDEFGH", out), T1700);
	}
}

static void test_weak_keys(void **state)
{
	/* weak, semi-weak, all-zero and bad-parity keys are RACF keys too */
	static const char *const hex[] = {
		"0101010101010101", "FEFEFEFEFEFEFEFE", "1F1F1F1F0E0E0E0E",
		"E0E0E0E0F1F1F1F1", "01FE01FE01FE01FE", "0000000000000000",
		"FFFFFFFFFFFFFFFF", "0000000000000001", "E001193519561976",
	};
	struct accord_pt_key k;
	char out[ACCORD_PT_LEN + 1];
	uint64_t t;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
		k = legacy_key(hex[i]);
		for (j = 0; j < 20; j++) {
			t = rnd() & UINT32_MAX;
			gen(&k, "IBMUSER", "TSOR001", t, out);
			assert_int_equal(dec(&k, "IBMUSER", "TSOR001", out), t);
		}
		assert_int_equal(accord_pt_verify(&k, "IBMUSER", "TSOR001", out, t, NULL,
						  NULL), 0);
	}
}

static void test_malformed(void **state)
{
	static const char *const legacy_bad[] = {
		"AEPRRZ3", "AEPRRZ3SX", "", "AEPRRZ3!", "AEPRR Z3", "AEPRRZ3-",
		"AEPRRZ3\xc3", "99999999", "AEPRRZ3S\n",
	};
	static const char *const upper_bad[] = {
		"1TAR4UN", "1TAR4UNXX", "1TAR4UN-", "1TAR4UN_", "ZZZZZZZZ",
		"1TAR4UN\x01",
	};
	static const char *const mixed_bad[] = {
		"pqzissR", "pqzissRUx", "pqzissR+", "pqziss/U", "pqzis RU", "pqzissR=",
	};
	struct accord_pt_key lk = legacy_key("E001193519561977");
	struct accord_pt_key up = enh_key(K64_HEX, ACCORD_PT_UPPER, 600);
	struct accord_pt_key mx = enh_key(K64_HEX, ACCORD_PT_MIXED, 600);
	struct accord_err err;
	uint64_t t = 7, tg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(legacy_bad) / sizeof(legacy_bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(accord_pt_verify(&lk, "MIKEM", "TSOSYS1", legacy_bad[i],
						  1111111, &tg, &err), -EINVAL);
		assert_int_equal(err.code, -EINVAL);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(accord_pt_decode(&lk, "MIKEM", "TSOSYS1", legacy_bad[i],
						  &t, NULL), -EINVAL);
		assert_int_equal(accord_pt_verify_scan(&lk, "MIKEM", "TSOSYS1",
						       legacy_bad[i], 1111111, &tg, NULL),
				 -EINVAL);
	}
	for (i = 0; i < sizeof(upper_bad) / sizeof(upper_bad[0]); i++)
		assert_int_equal(accord_pt_verify(&up, "IBMUSER", "TSOR001", upper_bad[i],
						  T1700, &tg, &err), -EINVAL);
	for (i = 0; i < sizeof(mixed_bad) / sizeof(mixed_bad[0]); i++)
		assert_int_equal(accord_pt_verify(&mx, "IBMUSER", "TSOR001", mixed_bad[i],
						  T1700, &tg, &err), -EINVAL);
	assert_int_equal(t, 7);   /* untouched on refusal */
	assert_int_equal(accord_pt_verify(&lk, "MIKEM", "TSOSYS1", NULL, 1111111, &tg,
					  &err), -EINVAL);
	/* a MIXED ticket is no UPPER one (folded, it is well-formed: some
	 * time far away) */
	assert_int_not_equal(accord_pt_verify(&up, "IBMUSER", "TSOR001", "pqzissRU",
					      T1700, &tg, &err), 0);
	/* no message repeats the ticket */
	assert_int_equal(accord_pt_verify(&lk, "MIKEM", "TSOSYS1", "AEPRRZ3!", 1111111,
					  &tg, &err), -EINVAL);
	assert_not_contains(err.msg, "AEPRRZ3");
	/* bad names */
	assert_int_equal(accord_pt_verify(&lk, "MIKE M", "TSOSYS1", "AEPRRZ3S", 1111111,
					  &tg, &err), -EINVAL);
	assert_contains(err.msg, "user ID");
	assert_int_equal(accord_pt_verify(&lk, "MIKEM", "TSOSYS123", "AEPRRZ3S", 1111111,
					  &tg, &err), -EINVAL);
	assert_contains(err.msg, "application name");
}

static void test_wrong_inputs(void **state)
{
	struct accord_pt_key keys[3], other;
	struct accord_err err;
	char out[ACCORD_PT_LEN + 1];
	uint64_t tg;
	size_t j, i;
	int r;

	(void)state;
	keys[0] = legacy_key("E001193519561977");
	keys[1] = enh_key(K64_HEX, ACCORD_PT_UPPER, 600);
	keys[2] = enh_key(K64_HEX, ACCORD_PT_MIXED, 600);
	for (j = 0; j < 3; j++) {
		for (i = 0; i < 50; i++) {
			uint64_t now = T1700 + (rnd() % 100000000);

			gen(&keys[j], "IBMUSER", "TSOR001", now - 30, out);
			assert_int_equal(accord_pt_verify(&keys[j], "IBMUSER", "TSOR001",
							  out, now, &tg, NULL), 0);
			/* another user, application or key: refused */
			memset(&err, 0, sizeof(err));
			r = accord_pt_verify(&keys[j], "IBMUSEX", "TSOR001", out, now, &tg,
					     &err);
			assert_true(r == -EINVAL || r == -ETIME);
			r = accord_pt_verify(&keys[j], "IBMUSER", "TSOR002", out, now, &tg,
					     &err);
			assert_true(r == -EINVAL || r == -ETIME);
			other = keys[j];
			other.key[i % other.len] ^= 0x80;  /* never a parity bit */
			r = accord_pt_verify(&other, "IBMUSER", "TSOR001", out, now, &tg,
					     &err);
			assert_true(r == -EINVAL || r == -ETIME);
			/* a key differing only in DES parity bits is the same key */
			if (j == 0) {
				other = keys[j];
				other.key[i % 8] ^= 0x01;
				assert_int_equal(accord_pt_verify(&other, "IBMUSER", "TSOR001",
								  out, now, &tg, NULL), 0);
			}
		}
	}
}

static void test_bad_keys(void **state)
{
	struct accord_pt_key k = legacy_key("E001193519561977");
	struct accord_err err = { 0 };
	char out[ACCORD_PT_LEN + 1] = "x";
	uint64_t t;

	(void)state;
	k.len = 7;
	assert_int_equal(accord_pt_generate(&k, "A", "B", 1, out, &err), -EINVAL);
	assert_string_equal(out, "");
	assert_contains(err.msg, "8 bytes");
	k.len = 8;
	k.alg = 3;
	assert_int_equal(accord_pt_generate(&k, "A", "B", 1, out, &err), -EINVAL);
	assert_int_equal(accord_pt_decode(&k, "A", "B", "AEPRRZ3S", &t, &err), -EINVAL);
	k = enh_key(K32_HEX, ACCORD_PT_UPPER, 600);
	k.len = 31;
	assert_int_equal(accord_pt_generate(&k, "A", "B", 1, out, &err), -EINVAL);
	k.len = 257;
	assert_int_equal(accord_pt_generate(&k, "A", "B", 1, out, &err), -EINVAL);
	k.len = 32;
	k.type = 2;
	assert_int_equal(accord_pt_generate(&k, "A", "B", 1, out, &err), -EINVAL);
	assert_int_equal(accord_pt_generate(NULL, "A", "B", 1, out, &err), -EINVAL);
	k.type = ACCORD_PT_MIXED;
	assert_int_equal(accord_pt_generate(&k, "A", "B", 1, NULL, &err), -EINVAL);
	assert_int_equal(accord_pt_generate(&k, "", "B", 1, out, &err), -EINVAL);
	assert_int_equal(accord_pt_generate(&k, "A", NULL, 1, out, &err), -EINVAL);
	assert_int_equal(accord_pt_generate(&k, "A", "B", 1, out, &err), 0);
}

/* Inverting and scanning agree: same decisions, same times. */
static void test_scan_agrees(void **state)
{
	struct accord_pt_key keys[3];
	char out[ACCORD_PT_LEN + 1];
	uint64_t now, t, tg1, tg2;
	int64_t d;
	size_t i, j;
	int r1, r2;

	(void)state;
	keys[0] = legacy_key("0123456789ABCDEF");
	keys[1] = enh_key(K32_HEX, ACCORD_PT_UPPER, 600);
	keys[2] = enh_key(K32_HEX, ACCORD_PT_MIXED, 120);
	for (j = 0; j < 3; j++)
		for (i = 0; i < 6; i++) {
			now = i == 5 ? (UINT64_C(1) << 32) - 3 : T1700 + rnd() % 1000000;
			d = (int64_t)(rnd() % 1400) - 700;
			t = now + (uint64_t)d;
			gen(&keys[j], "SCAN", "APPL", t, out);
			tg1 = tg2 = 0;
			r1 = accord_pt_verify(&keys[j], "SCAN", "APPL", out, now, &tg1, NULL);
			r2 = accord_pt_verify_scan(&keys[j], "SCAN", "APPL", out, now, &tg2,
						   NULL);
			if (r1 == 0) {
				assert_int_equal(r2, 0);
				assert_int_equal(tg1, tg2);
				assert_int_equal(tg1, t);
			} else {
				assert_int_equal(r1, -ETIME);
				assert_int_equal(r2, -EINVAL);
			}
		}
	/* the exact edges */
	for (j = 0; j < 3; j++) {
		int64_t w = (int64_t)keys[j].window;

		for (d = -w - 1; d <= w + 1; d += 2 * w + 2) {
			gen(&keys[j], "SCAN", "APPL", T1700 + (uint64_t)d, out);
			assert_int_equal(accord_pt_verify_scan(&keys[j], "SCAN", "APPL", out,
							       T1700, &tg2, NULL), -EINVAL);
		}
		for (d = -w; d <= w; d += 2 * w) {
			gen(&keys[j], "SCAN", "APPL", T1700 + (uint64_t)d, out);
			assert_int_equal(accord_pt_verify_scan(&keys[j], "SCAN", "APPL", out,
							       T1700, &tg2, NULL), 0);
			assert_int_equal(tg2, T1700 + (uint64_t)d);
		}
	}
}

/* OpenSSL's per-thread error queue is the host application's: we leave
 * nothing on it, succeeding or failing. */
static void test_error_queue(void **state)
{
	struct accord_pt_key k = legacy_key("E001193519561977");
	char out[ACCORD_PT_LEN + 1];
	uint64_t tg;

	(void)state;
	ERR_clear_error();
	gen(&k, "MIKEM", "TSOSYS1", 1111111, out);
	assert_int_equal(accord_pt_verify(&k, "MIKEM", "TSOSYS1", "AEPRRZ3S", 1111111,
					  &tg, NULL), 0);
	assert_int_equal(accord_pt_verify(&k, "MIKEM", "TSOSYS1", "99999999", 1111111,
					  &tg, NULL), -EINVAL);
	assert_int_equal(ERR_peek_error(), 0);
	/* and an error the application queued survives our calls */
	ERR_raise(ERR_LIB_USER, 42);
	gen(&k, "MIKEM", "TSOSYS1", 1111111, out);
	assert_int_equal(ERR_GET_REASON(ERR_peek_error()), 42);
	ERR_clear_error();
}

struct thread_arg {
	const struct accord_pt_key *k;
	uint64_t seed;
	int failures;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	char out[ACCORD_PT_LEN + 1];
	uint64_t t, tg;
	int i;

	for (i = 0; i < 300; i++) {
		t = T1700 + a->seed * 1000 + (uint64_t)i;
		if (accord_pt_generate(a->k, "THREAD", "APPL", t, out, NULL) != 0 ||
		    accord_pt_verify(a->k, "THREAD", "APPL", out, t + 300, &tg, NULL) != 0 ||
		    tg != t)
			a->failures++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct accord_pt_key lk = legacy_key("0123456789ABCDEF");
	struct accord_pt_key mk = enh_key(K32_HEX, ACCORD_PT_MIXED, 600);
	struct thread_arg args[8];
	pthread_t th[8];
	size_t i;

	(void)state;
	for (i = 0; i < 8; i++) {
		args[i].k = i % 2 ? &lk : &mk;
		args[i].seed = i;
		args[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_racf_id),
		cmocka_unit_test(test_key_from_hex),
		cmocka_unit_test(test_translate),
		cmocka_unit_test(test_permute),
		cmocka_unit_test(test_legacy_vectors),
		cmocka_unit_test(test_enhanced_vectors),
		cmocka_unit_test(test_enhanced_long_key),
		cmocka_unit_test(test_legacy_round_trip),
		cmocka_unit_test(test_enhanced_round_trip),
		cmocka_unit_test(test_verify_window),
		cmocka_unit_test(test_verify_wrap),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_weak_keys),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_wrong_inputs),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_scan_agrees),
		cmocka_unit_test(test_error_queue),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
