/* SPDX-License-Identifier: MIT */
/*
 * RACF PassTickets (../shared/spec/passticket.md): generation and
 * validation, bit-compatible with z/OS, for both algorithms:
 *
 *   legacy    DES (OpenSSL 3 default provider, DES-EDE3-ECB with K||K||K,
 *             in a library context of our own; no parity or weak-key
 *             checks), 32-bit unsigned time, alphabet A-Z0-9
 *   enhanced  HMAC-SHA-512, 48-bit time, UPPER (0-9A-Z, base 36) or MIXED
 *             (0-9A-Za-z-_, base 64)
 *
 * Validation inverts the ticket to its generation time (never a scan of
 * the 1,201 candidates) and accepts |t_gen - now| <= window.  Keys and
 * intermediate values are wiped after use; compares are constant-time.
 *
 * The key store, the authorization to generate (IRRPTAUTH) and the replay
 * cache live in the registry's secrets store: include/accord/ptstore.h.
 */
#ifndef ACCORD_PASSTICKET_H
#define ACCORD_PASSTICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>

#define ACCORD_PT_LEN 8                 /* every ticket */
#define ACCORD_PT_ID_MAX 8              /* RACF user ID, application name */
#define ACCORD_PT_WINDOW 600u           /* seconds, RACF's +-10 minutes */
#define ACCORD_PT_HMAC_MIN 32u          /* enhanced key bytes (256 bits) */
#define ACCORD_PT_HMAC_MAX 256u         /* (2048 bits) */

enum accord_pt_alg {
	ACCORD_PT_LEGACY = 1,
	ACCORD_PT_ENHANCED = 2,
};

enum accord_pt_type {              /* enhanced only */
	ACCORD_PT_UPPER = 0,
	ACCORD_PT_MIXED = 1,
};

/* An application key and its settings (RACF PTKTDATA SSIGNON segment). */
struct accord_pt_key {
	uint32_t alg;                   /* enum accord_pt_alg */
	uint32_t type;                  /* enum accord_pt_type (enhanced) */
	uint32_t window;                /* seconds, 1..600; legacy: 600 */
	bool replay_protection;         /* false: RACF NO REPLAY PROTECTION */
	size_t len;                     /* 8 (legacy) or 32..256 (enhanced) */
	unsigned char key[ACCORD_PT_HMAC_MAX];
};

/* Wipes a key (explicit_bzero). */
void accord_pt_key_wipe(struct accord_pt_key *k);

/*
 * A RACF user ID or application name from a Linux name: 1-8 characters
 * of A-Z 0-9 @ # $ after folding to upper case; out gets the upper-case
 * form, NUL-terminated.  -EINVAL with a message naming `what` otherwise.
 */
int accord_pt_racf_id(const char *what, const char *in,
		      char out[ACCORD_PT_ID_MAX + 1], struct accord_err *err);

/*
 * Key material from hex: legacy takes exactly 16 hex digits (with masked,
 * RACF's KEYMASKED form: clear = masked XOR BBFCD18E826660B6); enhanced
 * takes 64..512 hex digits.  Fills k->len and k->key only.
 */
int accord_pt_key_from_hex(const char *hex, uint32_t alg, bool masked,
			   struct accord_pt_key *k, struct accord_err *err);

/*
 * The ticket for (user, appl) at time t (seconds since 1970 UTC; legacy
 * uses t mod 2^32, enhanced t mod 2^48).  user and appl are RACF IDs
 * (accord_pt_racf_id() forms).  out: 8 characters and a NUL.
 */
int accord_pt_generate(const struct accord_pt_key *k, const char *user,
		       const char *appl, uint64_t t,
		       char out[ACCORD_PT_LEN + 1], struct accord_err *err);

/*
 * The generation time of a ticket, by inverting the algorithm (legacy and
 * enhanced UPPER fold the ticket to upper case first; MIXED is exact).
 * Legacy: *t in [0, 2^32); enhanced: [0, 2^48).  -EINVAL: not 8
 * characters of the key's alphabet, or no time maps to it.
 */
int accord_pt_decode(const struct accord_pt_key *k, const char *user,
		     const char *appl, const char *ticket, uint64_t *t,
		     struct accord_err *err);

/*
 * Validation: decode, then |t_gen - now| <= k->window (legacy times are
 * compared modulo 2^32, so the 2106 wrap is handled).  0: valid (*t_gen
 * set).  -ETIME: a well-formed ticket outside the window (*t_gen set).
 * -EINVAL: not a ticket for this key, user and application.  Replay is
 * not checked here (ptstore.h).
 */
int accord_pt_verify(const struct accord_pt_key *k, const char *user,
		     const char *appl, const char *ticket, uint64_t now,
		     uint64_t *t_gen, struct accord_err *err);

/*
 * Validation the slow way, for tests and bench/ptbench only: generates the
 * ticket of every second in [now - window, now + window] and compares each
 * with the presented one in constant time (no early exit).  0 and *t_gen
 * as accord_pt_verify(); a ticket that matches no candidate is -EINVAL
 * (a scan cannot tell "outside the window" from "not a ticket").
 */
int accord_pt_verify_scan(const struct accord_pt_key *k, const char *user,
			  const char *appl, const char *ticket, uint64_t now,
			  uint64_t *t_gen, struct accord_err *err);

#endif
