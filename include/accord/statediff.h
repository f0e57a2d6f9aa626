/* SPDX-License-Identifier: MIT */
/*
 * The differences between two states of a registry, per object and field:
 * profiles, groups, memberships, applications and their access lists,
 * swap rules, certificate maps, registered certificates, criteria entries,
 * CAs, CRLs (and, given by the caller, PassTicket permissions).  Used by
 * `accordctl diff` (a backup against the live registry, or two backups)
 * and by `accordctl restore` (what a restore would change).
 *
 * Objects are matched by identity: profiles and groups by name,
 * applications by name, swap rules by (from, to), maps by (owner, label),
 * registered certificates by SHA-256, criteria by name, CAs by label, CRLs
 * by CA label.  Linear in the number of objects (hash maps), no quadratic
 * step: two states of 100,000 profiles differ in well under 2 s.
 */
#ifndef ACCORD_STATEDIFF_H
#define ACCORD_STATEDIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include <accord/error.h>
#include <accord/state.h>

/* Object classes (also the CLASS names of restore --only). */
enum accord_class {
	ACCORD_CLASS_USER = 0,    /* "users" */
	ACCORD_CLASS_GROUP,       /* "groups" (members included) */
	ACCORD_CLASS_APPL,        /* "appls" (access lists included) */
	ACCORD_CLASS_SWAP,        /* "swaps" */
	ACCORD_CLASS_CERTMAP,     /* "certmaps" (maps, registrations, criteria) */
	ACCORD_CLASS_CA,          /* "cas" (CAs and CRLs: trust anchors) */
	ACCORD_CLASS_PTAUTH,      /* "ptauth" (PassTicket permissions) */
	ACCORD_CLASS_COUNT
};
const char *accord_class_name(enum accord_class c);
/* -1 when the name is no class. */
int accord_class_parse(const char *name);

enum accord_diff_op {
	ACCORD_DIFF_ADD,          /* in B only */
	ACCORD_DIFF_DELETE,       /* in A only */
	ACCORD_DIFF_CHANGE,       /* in both, fields differ */
};

/* One field that differs ("uid", "gid", "gecos", "home", "shell",
 * "status", "flags", "revoke_date", "resume_date", "racf_id", "members",
 * "uacc", "access:group:dev", "kind", "status", ...); values as text. */
struct accord_diff_field {
	const char *field;
	char *a, *b;              /* NULL when absent on that side */
};

struct accord_diff_entry {
	enum accord_class cls;
	enum accord_diff_op op;
	char *name;               /* the object's identity as text */
	struct accord_diff_field *fields;   /* CHANGE: the fields that differ */
	size_t nfields;
};

struct accord_diff {
	struct accord_diff_entry *v;
	size_t n;
	size_t count[ACCORD_CLASS_COUNT][3]; /* per class and op */
};

/* A → B.  ptauth_a/b: PassTicket permissions as "appl:kind:name" strings
 * (may be NULL with n 0 when unknown; then the class is not compared; a
 * known empty set is a non-NULL pointer with n 0).
 *
 * Names (identities) per class: users, groups, appls by name; swaps
 * "FROM->TO"; certmaps "map:OWNER/LABEL" (OWNER "MULTIID" for MULTIID
 * maps), "cert:SHA256HEX" (registered certificates), "criteria:NAME";
 * cas "ca:LABEL" and "crl:CALABEL"; ptauth "APPL:user|group:NAME".
 * Entries are sorted by class, then name.  "changed" times are not
 * compared (they move with every change reported by its own field);
 * "created" is (a profile deleted and made again is another profile). */
int accord_state_diff(const struct accord_state *a, const struct accord_state *b,
		      const char *const *ptauth_a, size_t na,
		      const char *const *ptauth_b, size_t nb,
		      struct accord_diff *out, struct accord_err *err);
void accord_diff_free(struct accord_diff *d);

/* {"summary":{class:{"add":n,"delete":n,"change":n}},"changes":[{"class",
 * "op","name","fields":[{"field","a","b"}]}]} */
json_object *accord_diff_json(const struct accord_diff *d);
/* "+ user alice", "- group ops", "~ user bob: shell /bin/sh -> /bin/bash" */
void accord_diff_print(const struct accord_diff *d, const char *label_a,
		       const char *label_b, FILE *f);

#endif
