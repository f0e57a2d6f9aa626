/* SPDX-License-Identifier: MIT */
/*
 * Certificate-to-user mapping with RACF's semantics (RACDCERT MAP,
 * DIGTNMAP, DIGTCRIT, DIGTCERT): the objects the registry holds, how they
 * are stored in the snapshot, and the resolution that reads them.
 *
 *   registered certificate  SHA-256 or (issuer, serial) -> user, TRUST or
 *                           NOTRUST; above every filter
 *   DN-filter map           (subject filter?, issuer filter?) -> user, or
 *                           MULTIID + criteria template; TRUST or NOTRUST
 *   criteria entry          "SERVICE=sshd.HOST=web1" -> user (MULTIID)
 *   CA certificate          TRUST, NOTRUST or HIGHTRUST (chain anchors)
 *   CRL                     signed by one of the CAs
 *
 * Resolution (../shared/spec/certmap.md §A.4) probes, for a subject of n
 * RDNs and an issuer of m: (S_n,I_m), (S_n-1,I_m) .. (S_1,I_m), (S_n),
 * (S_n-1) .. (S_1), (I_m) .. (I_1): at most 2n+m hash probes into the
 * snapshot, whatever the number of maps.  The first defined key decides:
 * NOTRUST denies, no fall-through.  Mapping is never authentication: the
 * certificate's chain and the holder's key are checked before (certverify.h,
 * pam_accord's methods=cert).
 */
#ifndef ACCORD_CERTMAP_H
#define ACCORD_CERTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include <accord/dn.h>
#include <accord/error.h>

struct accord_state;

#define ACCORD_LABEL_MAX 32        /* RACF WITHLABEL */
#define ACCORD_CRITERIA_MAX 255
#define ACCORD_CERTMAP_MAX_MAPS 4000000u

enum accord_map_status {
	ACCORD_MAP_TRUST = 0,
	ACCORD_MAP_NOTRUST = 1,
};

/* ---- the objects in the state (accordctl's side) ---- */

struct accord_certmap {
	char *label;
	char *user;         /* NULL: MULTIID */
	char *criteria;     /* MULTIID: "SERVICE=&SERVICE.HOST=&HOST" */
	char *sdn, *idn;    /* filter text as given (any form), NULL: none */
	uint32_t status;    /* enum accord_map_status */
	int64_t created, changed;
	bool live;
	bool dirty;         /* changed since loaded (journal) */
	uint32_t old_off;   /* record in the loaded section, UINT32_MAX new */
};

struct accord_certreg {
	char *label;
	char *user;
	unsigned char sha256[32];
	char *issuer;       /* issuer DN, RFC 4514, as in the certificate */
	char *issuer_key;   /* its canonical key (accord_dn_key), for lookups */
	char *serial;       /* upper-case hex, no leading zeros */
	char *subject;      /* RFC 4514, display */
	unsigned char *der; /* the certificate (restore registers it again) */
	size_t der_len;     /* 0 for a registration loaded without it */
	uint32_t status;
	int64_t created;
	bool live;
	bool dirty;
	uint32_t old_off;
};

struct accord_certcrit {
	char *name;         /* "SERVICE=sshd.HOST=*" */
	char *user;
	int64_t created;
	bool live;
	bool dirty;
	uint32_t old_off;
};

struct accord_ca {
	char *label;
	unsigned char *der;
	size_t len;
	uint32_t status;    /* enum accord_ca_status (certverify.h) */
	char *subject;      /* RFC 4514 */
	unsigned char sha256[32];
	int64_t not_after, created;
	bool live;
	bool dirty;
	uint32_t old_off;
};

struct accord_crl {
	char *ca_label;     /* the CA that signed it */
	unsigned char *der;
	size_t len;
	int64_t last_update, next_update, created;
	uint32_t entries;   /* revoked serials */
	bool live;
	bool dirty;
	uint32_t old_off;
};

/* certmap add */
struct accord_certmap_spec {
	const char *label;      /* NULL: LABELnnnnnnnn */
	const char *user;       /* or multiid */
	bool multiid;
	const char *criteria;
	const char *sdn, *idn;  /* as typed; with from_cert: starting points */
	bool notrust;
	const unsigned char *from_cert; /* DER of a sample certificate */
	size_t from_cert_len;
};

/* Warnings of an add (printed by accordctl, not errors). */
struct accord_certmap_warn {
	char text[4][200];
	int n;
};

/*
 * Validates and adds a map.  Refused: neither filter, an unknown user,
 * MULTIID without criteria (or criteria without MULTIID), a filter that
 * does not parse (the parser's message), a duplicate (sdn, idn) pair after
 * canonicalization ("the same filters are already mapped by label L of
 * user U"), a duplicate label of the same user, an IDN together with an
 * SDN when the IDN is not the full name of a CA in the registry (step 2
 * never probes a partial issuer), and with from_cert: a starting point not
 * found (IRRD141I) or an SDN with a partial IDN (IRRD146I).
 */
int accord_certmap_add(struct accord_state *st,
		       const struct accord_certmap_spec *spec,
		       struct accord_certmap_warn *warn, struct accord_err *err);
/* Labels are unique per user (or MULTIID): user may be NULL when the
 * label is unique across all; "" or "MULTIID" names the MULTIID maps. */
int accord_certmap_alter(struct accord_state *st, const char *label,
			 const char *user, const char *new_label, int status,
			 /* -1 unchanged */ struct accord_err *err);
int accord_certmap_del(struct accord_state *st, const char *label,
		       const char *user, struct accord_err *err);
/* Registered certificate (RACDCERT ADD ... TRUST/NOTRUST, DIGTCERT). */
int accord_certreg_add(struct accord_state *st, const unsigned char *der,
		       size_t len, const char *user, const char *label,
		       bool notrust, struct accord_err *err);
int accord_certcrit_add(struct accord_state *st, const char *name,
			const char *user, struct accord_err *err);
int accord_certcrit_del(struct accord_state *st, const char *name,
			struct accord_err *err);
int accord_ca_add(struct accord_state *st, const unsigned char *der,
		  size_t len, const char *label, uint32_t status,
		  struct accord_err *err);
int accord_ca_set_status(struct accord_state *st, const char *label,
			 uint32_t status, struct accord_err *err);
int accord_ca_del(struct accord_state *st, const char *label,
		  struct accord_err *err);
/* Replaces the CA's older CRL; refuses one older than the one held. */
int accord_crl_add(struct accord_state *st, const unsigned char *der,
		   size_t len, struct accord_err *err);

size_t accord_state_certmap_slots(const struct accord_state *st);
const struct accord_certmap *accord_state_certmap_at(const struct accord_state *st, size_t i);
size_t accord_state_certreg_slots(const struct accord_state *st);
const struct accord_certreg *accord_state_certreg_at(const struct accord_state *st, size_t i);
size_t accord_state_certcrit_slots(const struct accord_state *st);
const struct accord_certcrit *accord_state_certcrit_at(const struct accord_state *st, size_t i);
size_t accord_state_ca_slots(const struct accord_state *st);
const struct accord_ca *accord_state_ca_at(const struct accord_state *st, size_t i);
size_t accord_state_crl_slots(const struct accord_state *st);
const struct accord_crl *accord_state_crl_at(const struct accord_state *st, size_t i);

/* "trust", "notrust", "hightrust" */
const char *accord_ca_status_name(uint32_t status);

/* The JSON shape of a map or registration (journal, --json). */
struct json_object;
struct json_object *accord_json_certmap(const char *label, const char *user,
					const char *criteria, const char *sdn,
					const char *idn, uint32_t status,
					bool registered);

/* ---- the snapshot section (readers' side) ---- */

/*
 * A read-only view of the certificate section of a snapshot (mmapped,
 * possibly hostile): every offset is checked before use.
 */
struct accord_certdb {
	const unsigned char *base;
	size_t len;
	uint64_t seed;
	uint32_t nmaps, nregs, ncrits, ncas, ncrls;
	uint32_t map_slots, reg_slots;
	const unsigned char *map_index, *reg_index, *records;
	size_t records_len;
};

/* 0, or -EBADMSG with err set.  An absent section (len 0) is an empty
 * database. */
int accord_certdb_open(const void *blob, size_t len, struct accord_certdb *db,
		       struct accord_err *err);

/* One map or registration as read from the section. */
struct accord_certdb_map {
	const char *label, *user /* "" MULTIID */, *criteria, *sdn, *idn;
	uint32_t status;
	bool registered;        /* a registered certificate, not a filter */
};

/* Iteration for `certmap list`, `ca list` and the PAM module's trust set. */
int accord_certdb_map_next(const struct accord_certdb *db, uint32_t *cursor,
			   struct accord_certdb_map *out);
int accord_certdb_ca_next(const struct accord_certdb *db, uint32_t *cursor,
			  const unsigned char **der, size_t *len,
			  uint32_t *status, const char **label);
int accord_certdb_crl_next(const struct accord_certdb *db, uint32_t *cursor,
			   const unsigned char **der, size_t *len);

/* The trust set (certverify.h) of the section's CAs and CRLs. */
struct accord_trust;
int accord_certdb_trust(const struct accord_certdb *db, struct accord_trust **out,
			struct accord_err *err);

/* accord.conf's crl_check, cert_ku and cert_eku as a verification policy. */
struct accord_config;
struct accord_cert_policy;
void accord_cert_policy_from_config(const struct accord_config *cfg,
				    struct accord_cert_policy *pol);

/* ---- resolution ---- */

/* An already-parsed certificate: what mapping looks at. */
struct accord_certnames {
	unsigned char sha256[32];
	struct accord_dn *subject, *issuer;
	char serial[80];        /* upper-case hex, no leading zeros */
};
/* From DER (the certificate); frees with accord_certnames_clear(). */
int accord_certnames_from_der(const unsigned char *der, size_t len,
			      struct accord_certnames *out,
			      struct accord_err *err);
/* From a parsed certificate (what the PAM module already has). */
int accord_certnames_from_x509(X509 *cert, struct accord_certnames *out,
			       struct accord_err *err);
void accord_certnames_clear(struct accord_certnames *n);

/* The context criteria templates are expanded with. */
struct accord_certmap_ctx {
	const char *service;    /* &SERVICE (PAM service, RACF's &APPLID) */
	const char *host;       /* &HOST (short host name, RACF's &SYSID) */
	const char *rhost, *tty, *zone; /* &RHOST, &TTY, &ZONE */
	const char *const *vars;/* "NAME=VALUE" application variables */
	size_t nvars;
	enum accord_dn_match mode;
};

enum accord_map_result {
	ACCORD_MAPPED = 0,      /* out->user */
	ACCORD_MAP_DENIED,      /* NOTRUST map or registration */
	ACCORD_MAP_NO_MATCH,    /* no registration, no filter */
	ACCORD_MAP_NO_CRITERIA, /* MULTIID: no criteria entry matches */
};
const char *accord_map_result_name(enum accord_map_result r);

/* One probe, for `certmap test`. */
struct accord_map_probe {
	int step;               /* 0 registered (sha256 / issuer+serial), 1..6
				   RACF's steps (§1.4) */
	const char *what;       /* "sha256", "issuer+serial", "subject+issuer",
				   "partial subject+issuer", "subject",
				   "partial subject", "issuer", "partial issuer" */
	const char *key;        /* the canonical key probed */
	bool hit;
	const char *label;      /* on a hit */
};
typedef void (*accord_probe_cb)(const struct accord_map_probe *p, void *ctx);

struct accord_map_outcome {
	enum accord_map_result result;
	int tier;               /* 0 none, 1 registered, 2 filter */
	int step;               /* the deciding probe's step */
	int probes;             /* hash probes made */
	char label[ACCORD_LABEL_MAX + 1];
	char owner[ACCORD_LABEL_MAX + 1];   /* the map's user or "MULTIID" */
	char user[ACCORD_LABEL_MAX + 1];    /* the resulting user when MAPPED */
	char criteria[ACCORD_CRITERIA_MAX + 1]; /* expanded criteria */
	char criteria_entry[ACCORD_CRITERIA_MAX + 1]; /* the entry that won */
	bool dot_compat;        /* (explain mode: with a probe callback) the
				   winner matched only because a filter value
				   before RACF's single '.' separator also
				   matches the certificate's value + "." */
};

/* Resolves names against db.  probe (may be NULL) sees every probe in
 * order.  Returns 0, or -ENOMEM / -EBADMSG (damaged section: fail closed). */
int accord_certmap_resolve(const struct accord_certdb *db,
			   const struct accord_certnames *names,
			   const struct accord_certmap_ctx *ctx,
			   accord_probe_cb probe, void *probe_ctx,
			   struct accord_map_outcome *out);

/* ---- the one call for applications ---- */

/*
 * For a program that already holds a client's certificate (a TLS gateway
 * that verified possession, a daemon switching identity for a client, as
 * z/OS's pthread_security_np): verify the chain against the registry's
 * CAs and CRLs and map it, as pam_accord would for service `appl`.  Reads
 * accord.conf (conf_path, NULL: the installed one) and the host-local
 * snapshot it names, with their owner and mode checks.  Returns 0 with
 * out filled (decide on out->ok: the chain verified and the certificate
 * maps to out->map.user), or a negative errno when the configuration,
 * the snapshot or the certificate cannot be read (err says which).
 * Mapping is not authentication: the caller must have verified that the
 * client holds the certificate's key.
 */
struct accord_cert_decision {
	bool ok;
	int chain;                  /* enum accord_cert_reason */
	char chain_detail[256];
	struct accord_map_outcome map;
	uint64_t generation;        /* of the snapshot decided on */
};
int accord_cert_map_der(const char *conf_path, const unsigned char *der, size_t len,
			const char *appl, struct accord_cert_decision *out,
			struct accord_err *err);

/* Criteria: expands tmpl with ctx ("&SERVICE" etc.; a missing variable
 * drops its component), then picks the entry with the fewest generic
 * components, then the longest literal prefix.  Exposed for tests. */
int accord_criteria_expand(const char *tmpl, const struct accord_certmap_ctx *ctx,
			   char *out, size_t cap);

#endif
