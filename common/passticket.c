/* SPDX-License-Identifier: MIT */
/*
 * RACF PassTickets: include/accord/passticket.h, after
 * ../shared/spec/passticket.md (§2 legacy, §3 enhanced, §4 validation).
 *
 * Both algorithms end in a Feistel network whose every step can be undone
 * with the key, so validation decodes a ticket to its one generation time
 * and checks the window: 8 DES blocks (legacy) or 7 HMACs (enhanced)
 * instead of the 1,201 x 6 of a scan.
 *
 * OpenSSL is used only through a library context of our own, created once
 * per process: the PAM module runs inside sshd and other applications,
 * whose default context (configuration, providers, FIPS mode) we neither
 * read nor change.  Errors that OpenSSL queues while we run are popped
 * again (ERR_set_mark / ERR_pop_to_mark), so the host's queue is left as
 * it was.
 */
#include <accord/passticket.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "passticket_priv.h"

#define M32 UINT64_C(0xffffffff)
#define M48 UINT64_C(0xffffffffffff)
#define UPPER_BITS 41                  /* what an UPPER ticket carries */
#define UPPER_R_MASK 0x01ffffu         /* 17 bits: E[0] &= 0x01 */
#define HMAC_LEN 64

/* RACF's KEYMASKED form: masked = clear XOR this (spec §2.7). */
static const unsigned char keymask[8] = {
	0xbb, 0xfc, 0xd1, 0x8e, 0x82, 0x66, 0x60, 0xb6,
};

/* ---- the private OpenSSL context ---------------------------------------- */

static struct {
	pthread_once_t once;
	OSSL_LIB_CTX *lib;
	OSSL_PROVIDER *prov;
	EVP_CIPHER *des3;      /* DES-EDE3-ECB: single DES with K||K||K */
	EVP_MAC *hmac;
	char why[200];         /* why there is none */
} ossl = { .once = PTHREAD_ONCE_INIT };

static void ossl_free(void)
{
	/*
	 * Runs at exit and when a module holding this code is dlclose()d
	 * (atexit() from a shared object registers with its DSO handle).  If
	 * the application has already run OPENSSL_cleanup(), OpenSSL's state
	 * is gone and freeing would touch freed memory: OPENSSL_init_crypto()
	 * returns 0 exactly then.
	 */
	if (!ossl.lib || !OPENSSL_init_crypto(0, NULL))
		return;
	EVP_MAC_free(ossl.hmac);
	EVP_CIPHER_free(ossl.des3);
	OSSL_PROVIDER_unload(ossl.prov);
	OSSL_LIB_CTX_free(ossl.lib);
	ossl.hmac = NULL;
	ossl.des3 = NULL;
	ossl.prov = NULL;
	ossl.lib = NULL;
	snprintf(ossl.why, sizeof(ossl.why), "OpenSSL has been shut down");
}

static void ossl_init(void)
{
	const char *what = NULL;
	unsigned long e;

	ERR_set_mark();
	ossl.lib = OSSL_LIB_CTX_new();
	if (!ossl.lib) {
		what = "cannot create an OpenSSL library context";
		goto out;
	}
	/* explicitly, not the fallback: no configuration file is read */
	ossl.prov = OSSL_PROVIDER_load(ossl.lib, "default");
	if (!ossl.prov) {
		what = "cannot load OpenSSL's default provider";
		goto out;
	}
	ossl.des3 = EVP_CIPHER_fetch(ossl.lib, "DES-EDE3-ECB", NULL);
	if (!ossl.des3) {
		what = "OpenSSL's default provider has no DES-EDE3-ECB";
		goto out;
	}
	ossl.hmac = EVP_MAC_fetch(ossl.lib, "HMAC", NULL);
	if (!ossl.hmac)
		what = "OpenSSL's default provider has no HMAC";
out:
	if (what) {
		e = ERR_peek_last_error();
		snprintf(ossl.why, sizeof(ossl.why), "%s%s%s", what,
			 e ? ": " : "", e ? ERR_reason_error_string(e) : "");
		EVP_MAC_free(ossl.hmac);
		EVP_CIPHER_free(ossl.des3);
		OSSL_PROVIDER_unload(ossl.prov);
		OSSL_LIB_CTX_free(ossl.lib);
		ossl.hmac = NULL;
		ossl.des3 = NULL;
		ossl.prov = NULL;
		ossl.lib = NULL;
	} else {
		/* if atexit() fails, the context lives as long as the
		 * process: harmless */
		atexit(ossl_free);
	}
	ERR_pop_to_mark();
}

static int ossl_get(struct accord_err *err)
{
	int r = pthread_once(&ossl.once, ossl_init);

	if (r != 0)
		return accord_err_set(err, -r, "PassTicket crypto set-up: %s",
				      strerror(r));
	if (!ossl.des3 || !ossl.hmac)
		return accord_err_set(err, -EIO, "PassTicket crypto set-up: %s",
				      ossl.why);
	return 0;
}

/* ---- names and EBCDIC ------------------------------------------------------ */

static bool racf_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' ||
	       c == '#' || c == '$';
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The bytes of the CP037/CP500/CP1047-invariant RACF characters. */
static unsigned char ebcdic(char c)
{
	if (c >= 'A' && c <= 'I')
		return (unsigned char)(0xc1 + (c - 'A'));
	if (c >= 'J' && c <= 'R')
		return (unsigned char)(0xd1 + (c - 'J'));
	if (c >= 'S' && c <= 'Z')
		return (unsigned char)(0xe2 + (c - 'S'));
	if (c >= '0' && c <= '9')
		return (unsigned char)(0xf0 + (c - '0'));
	switch (c) {
	case '@': return 0x7c;
	case '#': return 0x7b;
	case '$': return 0x5b;
	default: return 0x40;   /* not reached: checked by accord_pt_racf_id() */
	}
}

int accord_pt_racf_id(const char *what, const char *in,
		      char out[ACCORD_PT_ID_MAX + 1], struct accord_err *err)
{
	char buf[ACCORD_PT_ID_MAX + 1];
	size_t i, n;

	if (!what)
		what = "RACF name";
	if (out)
		out[0] = '\0';
	if (!out)
		return accord_err_set(err, -EINVAL, "%s: no output buffer", what);
	if (!in || !in[0])
		return accord_err_set(err, -EINVAL, "%s is empty", what);
	n = strnlen(in, ACCORD_PT_ID_MAX + 1);
	if (n > ACCORD_PT_ID_MAX)
		return accord_err_set(err, -EINVAL,
				      "%s is longer than %d characters", what,
				      ACCORD_PT_ID_MAX);
	for (i = 0; i < n; i++) {
		buf[i] = upper(in[i]);
		if (!racf_char(buf[i]))
			return accord_err_set(err, -EINVAL,
					      "%s has a character RACF does not allow at position %zu (allowed: A-Z 0-9 @ # $)",
					      what, i + 1);
	}
	buf[n] = '\0';
	memcpy(out, buf, n + 1);
	return 0;
}

/* User and application as the algorithms take them. */
struct pt_ids {
	char user[ACCORD_PT_ID_MAX + 1], appl[ACCORD_PT_ID_MAX + 1];
	size_t user_len;
	unsigned char ua[16];   /* user8 || appl8: EBCDIC, blank-padded */
};

static int ids_load(const char *user, const char *appl, struct pt_ids *ids,
		    struct accord_err *err)
{
	size_t i, n;
	int r;

	r = accord_pt_racf_id("user ID", user, ids->user, err);
	if (r < 0)
		return r;
	r = accord_pt_racf_id("application name", appl, ids->appl, err);
	if (r < 0)
		return r;
	memset(ids->ua, 0x40, sizeof(ids->ua));
	ids->user_len = strlen(ids->user);
	for (i = 0; i < ids->user_len; i++)
		ids->ua[i] = ebcdic(ids->user[i]);
	n = strlen(ids->appl);
	for (i = 0; i < n; i++)
		ids->ua[8 + i] = ebcdic(ids->appl[i]);
	return 0;
}

/* ---- keys -------------------------------------------------------------------- */

void accord_pt_key_wipe(struct accord_pt_key *k)
{
	if (k)
		explicit_bzero(k, sizeof(*k));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int accord_pt_key_from_hex(const char *hex, uint32_t alg, bool masked,
			   struct accord_pt_key *k, struct accord_err *err)
{
	unsigned char buf[ACCORD_PT_HMAC_MAX];
	size_t i, n;
	int r = 0, hi, lo;

	if (!k)
		return accord_err_set(err, -EINVAL, "PassTicket key: no key");
	n = hex ? strnlen(hex, 2 * ACCORD_PT_HMAC_MAX + 1) : 0;
	if (alg == ACCORD_PT_LEGACY) {
		if (n != 16)
			return accord_err_set(err, -EINVAL,
					      "a legacy PassTicket key is exactly 16 hex digits (64 bits), not %zu%s",
					      n, n > 2 * ACCORD_PT_HMAC_MAX ? " or more" : "");
	} else if (alg == ACCORD_PT_ENHANCED) {
		if (masked)
			return accord_err_set(err, -EINVAL,
					      "KEYMASKED is for legacy PassTicket keys only");
		if (n < 2 * ACCORD_PT_HMAC_MIN || n > 2 * ACCORD_PT_HMAC_MAX || n % 2)
			return accord_err_set(err, -EINVAL,
					      "an enhanced PassTicket key is an even number of hex digits, %u to %u (%u to %u bits), not %zu%s",
					      2 * ACCORD_PT_HMAC_MIN, 2 * ACCORD_PT_HMAC_MAX,
					      8 * ACCORD_PT_HMAC_MIN, 8 * ACCORD_PT_HMAC_MAX,
					      n, n > 2 * ACCORD_PT_HMAC_MAX ? " or more" : "");
	} else {
		return accord_err_set(err, -EINVAL,
				      "unknown PassTicket algorithm %u", alg);
	}
	for (i = 0; i < n; i += 2) {
		hi = hexval(hex[i]);
		lo = hexval(hex[i + 1]);
		if (hi < 0 || lo < 0) {
			r = accord_err_set(err, -EINVAL,
					   "PassTicket key: position %zu is not a hex digit",
					   i + 1 + (hi >= 0));
			goto out;
		}
		buf[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	if (masked)
		for (i = 0; i < 8; i++)
			buf[i] ^= keymask[i];
	explicit_bzero(k->key, sizeof(k->key));
	memcpy(k->key, buf, n / 2);
	k->len = n / 2;
out:
	explicit_bzero(buf, sizeof(buf));
	return r;
}

static int key_check(const struct accord_pt_key *k, bool window,
		     struct accord_err *err)
{
	if (!k)
		return accord_err_set(err, -EINVAL, "no PassTicket key");
	if (k->alg == ACCORD_PT_LEGACY) {
		if (k->len != 8)
			return accord_err_set(err, -EINVAL,
					      "a legacy PassTicket key is 8 bytes, not %zu",
					      k->len);
	} else if (k->alg == ACCORD_PT_ENHANCED) {
		if (k->len < ACCORD_PT_HMAC_MIN || k->len > ACCORD_PT_HMAC_MAX)
			return accord_err_set(err, -EINVAL,
					      "an enhanced PassTicket key is %u to %u bytes, not %zu",
					      ACCORD_PT_HMAC_MIN, ACCORD_PT_HMAC_MAX,
					      k->len);
		if (k->type != ACCORD_PT_UPPER && k->type != ACCORD_PT_MIXED)
			return accord_err_set(err, -EINVAL,
					      "unknown enhanced PassTicket type %u",
					      k->type);
	} else {
		return accord_err_set(err, -EINVAL,
				      "unknown PassTicket algorithm %u", k->alg);
	}
	if (window && (k->window < 1 || k->window > ACCORD_PT_WINDOW))
		return accord_err_set(err, -EINVAL,
				      "PassTicket window of %u s: must be 1 to %u",
				      k->window, ACCORD_PT_WINDOW);
	return 0;
}

/* ---- legacy: time-coder permutations and translation (§2.4, §2.5) -------- */

/* For output bit 1..16 (1 = most significant), the input bit. */
static const uint8_t perm_tab[6][16] = {
	{ 10, 2, 12, 4, 14, 6, 16, 8, 9, 1, 11, 3, 13, 5, 15, 7 },
	{ 1, 10, 3, 12, 13, 16, 7, 15, 9, 2, 11, 4, 5, 14, 8, 6 },
	{ 3, 10, 1, 12, 13, 16, 9, 15, 7, 2, 14, 4, 5, 11, 8, 6 },
	{ 10, 4, 12, 2, 14, 8, 16, 6, 9, 1, 13, 3, 11, 5, 15, 7 },
	{ 4, 10, 12, 1, 8, 16, 14, 5, 9, 2, 13, 3, 11, 7, 15, 6 },
	{ 1, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2 },
};

uint16_t accord_pt_permute(unsigned table, uint16_t in)
{
	const uint8_t *p = perm_tab[(table - 1) % 6];
	unsigned j, out = 0;

	for (j = 0; j < 16; j++)
		out |= ((in >> (16 - p[j])) & 1u) << (15 - j);
	return (uint16_t)out;
}

uint16_t accord_pt_unpermute(unsigned table, uint16_t in)
{
	const uint8_t *p = perm_tab[(table - 1) % 6];
	unsigned j, out = 0;

	for (j = 0; j < 16; j++)
		out |= ((in >> (15 - j)) & 1u) << (16 - p[j]);
	return (uint16_t)out;
}

static const char legacy_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

void accord_pt_translate(uint32_t r5, char out[ACCORD_PT_LEN + 1])
{
	/* R5 twice in a row: character i (1..8) is the 6 bits that start at
	 * bit 4i - 5 of R5 (1 = most significant), wrapping from 32 to 1 */
	uint64_t x = (uint64_t)r5 << 32 | r5;
	unsigned i;

	for (i = 1; i <= ACCORD_PT_LEN; i++)
		out[i - 1] = legacy_alpha[((x >> (32 - 4 * i)) & 63) % 36];
	out[ACCORD_PT_LEN] = '\0';
}

/* 0..35 in the legacy alphabet (a-z folded), -1 outside it. */
static int legacy_index(char c)
{
	c = upper(c);
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '0' && c <= '9')
		return 26 + (c - '0');
	return -1;
}

int accord_pt_untranslate(const char *ticket, uint32_t *r5)
{
	/*
	 * A character of index a stands for the 6-bit window a or a + 36.
	 * Neighbouring windows share 2 bits: the top 2 bits of window i are
	 * the low 2 bits of window i - 1 (cyclically), and the low 2 bits do
	 * not depend on the choice (36 = 0 mod 4), while the top 2 bits of a
	 * and a + 36 always differ.  So each window is fixed by its left
	 * neighbour, or there is none; R5 is then the low nibbles in order.
	 */
	int a[ACCORD_PT_LEN];
	unsigned i, bad = 0, want, v0, v1, ok0, ok1, v;
	uint32_t out = 0;

	if (!ticket || strnlen(ticket, ACCORD_PT_LEN + 1) != ACCORD_PT_LEN)
		return -EINVAL;
	for (i = 0; i < ACCORD_PT_LEN; i++) {
		a[i] = legacy_index(ticket[i]);
		bad |= a[i] < 0;
	}
	if (bad)
		return -EINVAL;
	for (i = 0; i < ACCORD_PT_LEN; i++) {
		want = (unsigned)a[(i + ACCORD_PT_LEN - 1) % ACCORD_PT_LEN] & 3u;
		v0 = (unsigned)a[i];
		v1 = v0 + 36;
		ok0 = (v0 >> 4) == want;
		ok1 = v1 <= 63 && (v1 >> 4) == want;
		bad |= !(ok0 | ok1);
		v = ok0 ? v0 : v1;
		out = out << 4 | (v & 15u);
	}
	if (bad)
		return -EINVAL;
	*r5 = out;
	return 0;
}

/* ---- legacy: DES steps (§2.2, §2.3) ----------------------------------------- */

struct legacy {
	EVP_CIPHER_CTX *c;
	uint32_t r3;
	unsigned char pad[12];   /* unpadded EBCDIC user ID, then X'55' */
};

static int des_block(EVP_CIPHER_CTX *c, const unsigned char in[8],
		     unsigned char out[8])
{
	/* EVP_Cipher(): one block straight to the provider, no buffering */
	return EVP_Cipher(c, out, in, 8) == 8 ? 0 : -EIO;
}

static void legacy_close(struct legacy *L)
{
	EVP_CIPHER_CTX_free(L->c);   /* the provider clears its key schedule */
	explicit_bzero(L, sizeof(*L));
}

static int legacy_open(struct legacy *L, const struct accord_pt_key *k,
		       const struct pt_ids *ids, struct accord_err *err)
{
	unsigned char k3[24], b[8], c[8];
	int r = 0;
	size_t i;

	memset(L, 0, sizeof(*L));
	L->c = EVP_CIPHER_CTX_new();
	if (!L->c)
		return accord_err_set(err, -ENOMEM, "PassTicket: out of memory");
	/* DES-EDE3 with K1 = K2 = K3 is single DES; no parity or weak-key
	 * checks are made (RACF keys are any 64 bits) */
	memcpy(k3, k->key, 8);
	memcpy(k3 + 8, k->key, 8);
	memcpy(k3 + 16, k->key, 8);
	if (!EVP_EncryptInit_ex2(L->c, ossl.des3, k3, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(L->c, 0)) {
		r = accord_err_set(err, -EIO, "PassTicket: DES key set-up failed");
		goto out;
	}
	/* R1 = DES(user8); R2 = DES(R1 ^ appl8); R3 = R2[0:4] */
	if (des_block(L->c, ids->ua, c) < 0)
		goto fail;
	for (i = 0; i < 8; i++)
		b[i] = c[i] ^ ids->ua[8 + i];
	if (des_block(L->c, b, c) < 0)
		goto fail;
	L->r3 = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 |
		(uint32_t)c[2] << 8 | c[3];
	memset(L->pad, 0x55, sizeof(L->pad));
	memcpy(L->pad, ids->ua, ids->user_len);
	goto out;
fail:
	r = accord_err_set(err, -EIO, "PassTicket: DES failed");
out:
	explicit_bzero(k3, sizeof(k3));
	explicit_bzero(b, sizeof(b));
	explicit_bzero(c, sizeof(c));
	if (r < 0)
		legacy_close(L);
	return r;
}

/* Round r's function: the left 2 bytes of DES(x || PADr). */
static int legacy_f(struct legacy *L, unsigned r, uint16_t x, uint16_t *out)
{
	unsigned char b[8], c[8];
	int rc;

	b[0] = (unsigned char)(x >> 8);
	b[1] = (unsigned char)x;
	memcpy(b + 2, L->pad + (r % 2 ? 0 : 6), 6);
	rc = des_block(L->c, b, c);
	*out = (uint16_t)(c[0] << 8 | c[1]);
	explicit_bzero(b, sizeof(b));
	explicit_bzero(c, sizeof(c));
	return rc;
}

/* Steps 4 and 5: the time to R5. */
static int legacy_encode(struct legacy *L, uint32_t t, uint32_t *r5)
{
	uint32_t r4 = L->r3 ^ t;
	uint16_t l = (uint16_t)(r4 >> 16), rr = (uint16_t)r4, d, e;
	unsigned r;
	int rc = 0;

	for (r = 1; r <= 6; r++) {
		rc |= legacy_f(L, r, rr, &d);
		e = d ^ l;
		l = rr;
		rr = accord_pt_permute(r, e);
	}
	*r5 = (uint32_t)l << 16 | rr;
	return rc ? -EIO : 0;
}

/* Its inverse: R5 to the time. */
static int legacy_decode(struct legacy *L, uint32_t r5, uint32_t *t)
{
	uint16_t l = (uint16_t)(r5 >> 16), rr = (uint16_t)r5, d, e;
	unsigned r;
	int rc = 0;

	for (r = 6; r >= 1; r--) {
		e = accord_pt_unpermute(r, rr);
		rr = l;
		rc |= legacy_f(L, r, rr, &d);
		l = e ^ d;
	}
	*t = ((uint32_t)l << 16 | rr) ^ L->r3;
	return rc ? -EIO : 0;
}

/* ---- enhanced (§3) ----------------------------------------------------------- */

struct enhanced {
	EVP_MAC_CTX *m;
	const unsigned char *ua;
	uint64_t h48;            /* H[0:6] */
	bool upper;
};

static const char base36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char base64[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

static int hmac(EVP_MAC_CTX *m, const unsigned char *msg, size_t n,
		unsigned char out[HMAC_LEN])
{
	size_t outl = 0;

	/* a NULL key keeps the key, with its inner and outer pads hashed */
	if (!EVP_MAC_init(m, NULL, 0, NULL) || !EVP_MAC_update(m, msg, n) ||
	    !EVP_MAC_final(m, out, &outl, HMAC_LEN) || outl != HMAC_LEN)
		return -EIO;
	return 0;
}

static void enhanced_close(struct enhanced *E)
{
	EVP_MAC_CTX_free(E->m);      /* clears the key and digest states */
	explicit_bzero(E, sizeof(*E));
}

static int enhanced_open(struct enhanced *E, const struct accord_pt_key *k,
			 const struct pt_ids *ids, struct accord_err *err)
{
	unsigned char h[HMAC_LEN];
	char md[] = "SHA512";
	OSSL_PARAM p[2];
	int r = 0, i;

	memset(E, 0, sizeof(*E));
	E->ua = ids->ua;
	E->upper = k->type == ACCORD_PT_UPPER;
	E->m = EVP_MAC_CTX_new(ossl.hmac);
	if (!E->m)
		return accord_err_set(err, -ENOMEM, "PassTicket: out of memory");
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, md, 0);
	p[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(E->m, k->key, k->len, p)) {
		r = accord_err_set(err, -EIO,
				   "PassTicket: HMAC-SHA-512 key set-up failed");
		goto out;
	}
	if (hmac(E->m, ids->ua, sizeof(ids->ua), h) < 0) {
		r = accord_err_set(err, -EIO, "PassTicket: HMAC-SHA-512 failed");
		goto out;
	}
	for (i = 0; i < 6; i++)
		E->h48 = E->h48 << 8 | h[i];
out:
	explicit_bzero(h, sizeof(h));
	if (r < 0)
		enhanced_close(E);
	return r;
}

/* Round r's function: HMAC(K, x || r || UA)[0:3]. */
static int enhanced_f(struct enhanced *E, unsigned r, uint32_t x, uint32_t *out)
{
	unsigned char msg[20], h[HMAC_LEN];
	int rc;

	msg[0] = (unsigned char)(x >> 16);
	msg[1] = (unsigned char)(x >> 8);
	msg[2] = (unsigned char)x;
	msg[3] = (unsigned char)r;
	memcpy(msg + 4, E->ua, 16);
	rc = hmac(E->m, msg, sizeof(msg), h);
	*out = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(h, sizeof(h));
	return rc;
}

static int enhanced_encode(struct enhanced *E, uint64_t t, uint64_t *n)
{
	uint64_t x = (t & M48) ^ E->h48;
	uint32_t l = (uint32_t)(x >> 24), rr = (uint32_t)x & 0xffffff, f, e;
	unsigned r;
	int rc = 0;

	for (r = 1; r <= 6; r++) {
		rc |= enhanced_f(E, r, rr, &f);
		e = l ^ f;
		if (E->upper && r % 2)
			e &= UPPER_R_MASK;
		l = rr;
		rr = e;
	}
	*n = (uint64_t)l << 24 | rr;
	return rc ? -EIO : 0;
}

/*
 * The inverse.  UPPER clears the top 7 bits of E in rounds 1, 3 and 5:
 * in rounds 3 and 5 they were zero already (the left half there is the
 * 17-bit right half of the round before), and in round 1 they are the top
 * bits of X[0] = time[0] ^ H[0], time[0] being 0 below 2^41 seconds.
 */
static int enhanced_decode(struct enhanced *E, uint64_t n, uint64_t *t)
{
	uint32_t l = (uint32_t)(n >> 24), rr = (uint32_t)n & 0xffffff, f, e;
	uint32_t h_top = (uint32_t)(E->h48 >> 24) & ~UPPER_R_MASK & 0xffffff;
	unsigned r;
	int rc = 0;

	for (r = 6; r >= 1; r--) {
		e = rr;
		rr = l;
		rc |= enhanced_f(E, r, rr, &f);
		l = e ^ f;
		if (E->upper && r % 2)
			l = (l & UPPER_R_MASK) | (r == 1 ? h_top : 0);
	}
	*t = (((uint64_t)l << 24 | rr) ^ E->h48) & M48;
	return rc ? -EIO : 0;
}

static void enhanced_format(uint64_t n, bool upper_type, char out[ACCORD_PT_LEN + 1])
{
	unsigned base = upper_type ? 36 : 64;
	const char *alpha = upper_type ? base36 : base64;
	int i;

	for (i = ACCORD_PT_LEN - 1; i >= 0; i--) {
		out[i] = alpha[n % base];
		n /= base;
	}
	out[ACCORD_PT_LEN] = '\0';
}

static int digit36(char c)
{
	c = upper(c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

static int digit64(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* -EINVAL: a character outside the alphabet, or (UPPER) more than 41
 * bits, which no time produces. */
static int enhanced_parse(const char *ticket, bool upper_type, uint64_t *n)
{
	uint64_t v = 0;
	int i, d, bad = 0;

	for (i = 0; i < ACCORD_PT_LEN; i++) {
		d = upper_type ? digit36(ticket[i]) : digit64(ticket[i]);
		bad |= d < 0;
		v = v * (upper_type ? 36 : 64) + (uint64_t)(d < 0 ? 0 : d);
	}
	if (bad || (upper_type && v >> UPPER_BITS))
		return -EINVAL;
	*n = v;
	return 0;
}

/* ---- the API ------------------------------------------------------------------- */

/* Everything a ticket computation needs, for one call. */
struct pt_run {
	struct pt_ids ids;
	struct legacy L;
	struct enhanced E;
	bool legacy;
};

static void run_close(struct pt_run *x)
{
	if (x->L.c)
		legacy_close(&x->L);
	if (x->E.m)
		enhanced_close(&x->E);
	explicit_bzero(x, sizeof(*x));
}

static int run_open(struct pt_run *x, const struct accord_pt_key *k,
		    const char *user, const char *appl, bool window,
		    struct accord_err *err)
{
	int r;

	memset(x, 0, sizeof(*x));
	r = key_check(k, window, err);
	if (r < 0)
		return r;
	r = ids_load(user, appl, &x->ids, err);
	if (r < 0)
		return r;
	r = ossl_get(err);
	if (r < 0)
		return r;
	x->legacy = k->alg == ACCORD_PT_LEGACY;
	if (x->legacy)
		return legacy_open(&x->L, k, &x->ids, err);
	return enhanced_open(&x->E, k, &x->ids, err);
}

/* The ticket of time t (legacy: t mod 2^32; enhanced: t mod 2^48). */
static int run_generate(struct pt_run *x, uint64_t t, char out[ACCORD_PT_LEN + 1])
{
	uint32_t r5 = 0;
	uint64_t n = 0;
	int r;

	if (x->legacy) {
		r = legacy_encode(&x->L, (uint32_t)t, &r5);
		accord_pt_translate(r5, out);
	} else {
		r = enhanced_encode(&x->E, t, &n);
		enhanced_format(n, x->E.upper, out);
	}
	explicit_bzero(&r5, sizeof(r5));
	explicit_bzero(&n, sizeof(n));
	return r;
}

int accord_pt_generate(const struct accord_pt_key *k, const char *user,
		       const char *appl, uint64_t t,
		       char out[ACCORD_PT_LEN + 1], struct accord_err *err)
{
	struct pt_run x;
	int r;

	if (!out)
		return accord_err_set(err, -EINVAL, "PassTicket: no output buffer");
	out[0] = '\0';
	ERR_set_mark();
	r = run_open(&x, k, user, appl, false, err);
	if (r < 0)
		goto out;
	r = run_generate(&x, t, out);
	if (r < 0) {
		explicit_bzero(out, ACCORD_PT_LEN + 1);
		accord_err_set(err, r, "PassTicket: %s failed",
			       x.legacy ? "DES" : "HMAC-SHA-512");
	}
out:
	run_close(&x);
	ERR_pop_to_mark();
	return r;
}

/* The ticket in the form it is compared in: 8 characters; legacy and
 * UPPER folded to upper case, MIXED as given. */
static int ticket_load(const struct accord_pt_key *k, const char *ticket,
		       char tk[ACCORD_PT_LEN + 1], struct accord_err *err)
{
	bool fold = k->alg == ACCORD_PT_LEGACY || k->type == ACCORD_PT_UPPER;
	size_t i;

	if (!ticket || strnlen(ticket, ACCORD_PT_LEN + 1) != ACCORD_PT_LEN)
		return accord_err_set(err, -EINVAL,
				      "a PassTicket is %d characters long",
				      ACCORD_PT_LEN);
	for (i = 0; i < ACCORD_PT_LEN; i++)
		tk[i] = fold ? upper(ticket[i]) : ticket[i];
	tk[ACCORD_PT_LEN] = '\0';
	return 0;
}

static const char *alphabet_name(const struct accord_pt_key *k)
{
	if (k->alg == ACCORD_PT_LEGACY)
		return "A-Z 0-9";
	return k->type == ACCORD_PT_UPPER ? "0-9 A-Z" : "0-9 A-Z a-z - _";
}

int accord_pt_decode(const struct accord_pt_key *k, const char *user,
		     const char *appl, const char *ticket, uint64_t *t,
		     struct accord_err *err)
{
	struct pt_run x;
	char tk[ACCORD_PT_LEN + 1];
	uint32_t r5 = 0, t32 = 0;
	uint64_t n = 0, t64 = 0;
	int r;

	memset(&x, 0, sizeof(x));
	r = key_check(k, false, err);
	if (r < 0)
		return r;
	r = ticket_load(k, ticket, tk, err);
	if (r < 0)
		goto wipe;
	/* the ticket's form first: most strings are no ticket at all, and
	 * those cost no crypto */
	r = k->alg == ACCORD_PT_LEGACY ? accord_pt_untranslate(tk, &r5)
				       : enhanced_parse(tk, k->type == ACCORD_PT_UPPER, &n);
	if (r < 0) {
		r = accord_err_set(err, -EINVAL,
				   "not a PassTicket: characters outside %s, or a combination no time produces",
				   alphabet_name(k));
		goto wipe;
	}
	ERR_set_mark();
	r = run_open(&x, k, user, appl, false, err);
	if (r == 0) {
		if (x.legacy) {
			r = legacy_decode(&x.L, r5, &t32);
			t64 = t32;
		} else {
			r = enhanced_decode(&x.E, n, &t64);
		}
		if (r < 0)
			accord_err_set(err, r, "PassTicket: %s failed",
				       x.legacy ? "DES" : "HMAC-SHA-512");
		else if (t)
			*t = t64;
	}
	run_close(&x);
	ERR_pop_to_mark();
wipe:
	explicit_bzero(tk, sizeof(tk));
	explicit_bzero(&r5, sizeof(r5));
	explicit_bzero(&n, sizeof(n));
	return r;
}

/* The signed distance a - b modulo 2^bits, in (-2^(bits-1), 2^(bits-1)]. */
static int64_t mod_distance(uint64_t a, uint64_t b, uint64_t mask)
{
	uint64_t d = (a - b) & mask;

	return d > (mask >> 1) + 1 ? (int64_t)d - (int64_t)mask - 1 : (int64_t)d;
}

/* The generation time nearest to now that is congruent with the decoded
 * one (legacy tickets repeat every 2^32 s, so after 2106 the decoded value
 * alone would put a fresh ticket 136 years in the past). */
static uint64_t near_now(uint64_t now, int64_t d, uint64_t decoded)
{
	if (d < 0 && (uint64_t)-d > now)
		return decoded;
	if (d > 0 && now > UINT64_MAX - (uint64_t)d)
		return decoded;
	return d < 0 ? now - (uint64_t)-d : now + (uint64_t)d;
}

int accord_pt_verify(const struct accord_pt_key *k, const char *user,
		     const char *appl, const char *ticket, uint64_t now,
		     uint64_t *t_gen, struct accord_err *err)
{
	uint64_t t = 0, mask;
	int64_t d;
	int r;

	r = key_check(k, true, err);
	if (r < 0)
		return r;
	r = accord_pt_decode(k, user, appl, ticket, &t, err);
	if (r < 0)
		return r;
	mask = k->alg == ACCORD_PT_LEGACY ? M32 : M48;
	d = mod_distance(t, now, mask);
	if (t_gen)
		*t_gen = near_now(now, d, t);
	if (d < -(int64_t)k->window || d > (int64_t)k->window)
		return accord_err_set(err, -ETIME,
				      "the PassTicket was generated %lld s %s, outside the window of %u s",
				      (long long)(d < 0 ? -d : d),
				      d < 0 ? "ago" : "in the future", k->window);
	return 0;
}

int accord_pt_verify_scan(const struct accord_pt_key *k, const char *user,
			  const char *appl, const char *ticket, uint64_t now,
			  uint64_t *t_gen, struct accord_err *err)
{
	struct pt_run x;
	char tk[ACCORD_PT_LEN + 1], cand[ACCORD_PT_LEN + 1];
	uint64_t mask, found = 0, hit = 0, eq;
	int64_t d, w;
	int r, rc = 0;

	memset(&x, 0, sizeof(x));
	r = key_check(k, true, err);
	if (r < 0)
		return r;
	r = ticket_load(k, ticket, tk, err);
	if (r < 0)
		goto wipe;
	ERR_set_mark();
	r = run_open(&x, k, user, appl, true, err);
	if (r < 0)
		goto out;
	mask = x.legacy ? M32 : M48;
	w = (int64_t)k->window;
	for (d = -w; d <= w; d++) {
		rc |= run_generate(&x, (now + (uint64_t)d) & mask, cand);
		/* all ones when equal, without a branch on the secret */
		eq = (uint64_t)(CRYPTO_memcmp(cand, tk, ACCORD_PT_LEN) == 0);
		eq = (uint64_t)0 - eq;
		hit = (hit & ~(eq & ~found)) | ((uint64_t)d & eq & ~found);
		found |= eq;
	}
	if (rc) {
		r = accord_err_set(err, -EIO, "PassTicket: %s failed",
				   x.legacy ? "DES" : "HMAC-SHA-512");
	} else if (!found) {
		r = accord_err_set(err, -EINVAL,
				   "the PassTicket is not valid for this key, user and application within %u s of now",
				   k->window);
	} else if (t_gen) {
		d = (int64_t)hit;
		*t_gen = near_now(now, d, (now + (uint64_t)d) & mask);
	}
out:
	run_close(&x);
	ERR_pop_to_mark();
wipe:
	explicit_bzero(tk, sizeof(tk));
	explicit_bzero(cand, sizeof(cand));
	return r;
}
