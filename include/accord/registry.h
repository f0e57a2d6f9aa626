/* SPDX-License-Identifier: MIT */
/*
 * The registry: where the state lives, how it changes (one atomic,
 * journaled, serialized commit at a time) and how hosts get it (sync of
 * the current snapshot to a host-local file).
 *
 * The write path goes through a small store interface (common/store.h) so
 * that the CLI, the sync step and later the PAM module's counters do not
 * care whether the registry is a directory (today) or a directory server
 * (the scale-out path in DESIGN.md).
 */
#ifndef ACCORD_REGISTRY_H
#define ACCORD_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <accord/error.h>
#include <accord/snapshot.h>
#include <accord/state.h>

#define ACCORD_CONF_LINE_MAX 1024

struct accord_config {
	char registry[4096];   /* "" when not configured */
	char snapshot[4096];   /* host-local snapshot the NSS module maps */
	char default_home[ACCORD_PATH_MAX + 1];
	char default_shell[ACCORD_PATH_MAX + 1];
	unsigned lock_timeout; /* seconds to wait for the writer lock */
	unsigned snapshot_grace; /* seconds an old generation is kept */
	/* logon policy (pam_accord) */
	unsigned revoke_after;   /* consecutive bad passwords that revoke; 0 never (5) */
	unsigned inactive_days;  /* revoke after this many days without a logon; 0 off */
	bool protect_all;        /* an undefined application denies (no) */
	unsigned password_min_length; /* 8 */
	char audit_file[4096];   /* JSON-lines audit file, "" for none */
	char swap_never[ACCORD_CONF_LINE_MAX]; /* profiles no swap rule can
						  reach, "a,b" ("" none) */
	/* certificate logon (certmap.h, certverify.h) */
	unsigned match;          /* enum accord_dn_match: ldap (0) | exact */
	unsigned crl_check;      /* enum accord_crl_mode: auto (0) | require | off */
	char cert_eku[128];      /* "clientAuth"; a list, or "any" */
	bool cert_ku_ds;         /* cert_ku = digitalSignature (yes) | any */
	unsigned challenge_max_age; /* seconds a logon challenge stays valid (120) */
	/* storages: the profile that takes files of a deleted owner with
	 * --owned-files default-owner (IBM i QDFTOWN); "" none */
	char default_owner[ACCORD_NAME_MAX + 1];
};

void accord_config_defaults(struct accord_config *cfg);
/* Parses key = value lines.  A missing file is an error unless
 * missing_ok.  The file must be owned by root (or the caller) and not
 * writable by group or others. */
int accord_config_load(const char *path, bool missing_ok,
		       struct accord_config *cfg, struct accord_err *err);
/* Same, from memory (tests, fuzzing); where names the source in errors. */
int accord_config_parse(const char *text, size_t len, const char *where,
			struct accord_config *cfg, struct accord_err *err);

/* Who is acting: recorded in the journal and in tombstones. */
struct accord_actor {
	uint32_t uid;
	uint32_t loginuid;     /* UINT32_MAX when unset */
	char user[64];         /* name of uid, or the number */
	char login_user[64];   /* name of loginuid, "" when unset */
	char host[256];
	int pid;
};
void accord_actor_self(struct accord_actor *a);
/* "root" or "root (login alice)" */
void accord_actor_label(const struct accord_actor *a, char *buf, size_t len);

struct accord_registry;

/* Creates a registry in dir (which must be absent or empty).  Publishes
 * generation 1 (empty) and returns 0 or -errno. */
int accord_registry_init(const char *dir, const struct accord_range *uids,
			 const struct accord_range *gids,
			 const struct accord_actor *actor,
			 struct accord_err *err);
int accord_registry_open(const char *dir, const struct accord_config *cfg,
			 struct accord_registry **out, struct accord_err *err);
void accord_registry_close(struct accord_registry *reg);
const char *accord_registry_path(const struct accord_registry *reg);
void accord_registry_uuid(const struct accord_registry *reg, char out[37]);

/* Maps the current generation for reading (no lock).  Header-checked;
 * pass verify to also run the deep check. */
int accord_registry_current(struct accord_registry *reg, bool verify,
			    struct accord_snapshot *snap,
			    struct accord_err *err);

/* A write: lock, load, change the state, commit or abort. */
struct accord_txn;
int accord_txn_begin(struct accord_registry *reg,
		     const struct accord_actor *actor, struct accord_txn **tx,
		     struct accord_err *err);
struct accord_state *accord_txn_state(struct accord_txn *tx);
uint64_t accord_txn_base_generation(const struct accord_txn *tx);
/*
 * Publishes the changed state as the next generation, with a journal entry
 * naming `operation`.  If nothing changed, publishes nothing (*gen is the
 * current generation, *nchanges 0).  Frees tx in every case.
 */
int accord_txn_commit(struct accord_txn *tx, const char *operation,
		      uint64_t *gen, size_t *nchanges, struct accord_err *err);
void accord_txn_abort(struct accord_txn *tx);

struct accord_sync_result {
	uint64_t generation;     /* installed (or already there) */
	uint64_t previous;       /* generation that was there, 0 if none */
	bool changed;
	uint32_t users, groups;
};
/*
 * Installs the current snapshot at target after the deep check: atomic
 * (tmp, fsync, rename), never older over newer for the same registry
 * unless force.  trusted_gen names a generation this process built or
 * verified itself (the one a commit just published), which skips the deep
 * check; 0 trusts nothing.
 */
int accord_registry_sync(struct accord_registry *reg, const char *target,
			 bool force, uint64_t trusted_gen,
			 struct accord_sync_result *res, struct accord_err *err);

enum accord_finding {
	ACCORD_FIND_OK,      /* a check that passed, for verbose output */
	ACCORD_FIND_NOTE,    /* harmless, e.g. an interrupted commit set aside */
	ACCORD_FIND_WARNING, /* works, but needs attention (stale local copy) */
	ACCORD_FIND_ERROR,   /* the registry or the local snapshot is broken */
};
typedef void (*accord_check_cb)(enum accord_finding level, const char *what,
				const char *detail, void *ctx);
/* Verifies the registry and (if local is not NULL) the host-local
 * snapshot; reports each finding.  Returns the number of errors, or a
 * negative errno if the check itself could not run. */
int accord_registry_check(struct accord_registry *reg, const char *local,
			  accord_check_cb cb, void *ctx,
			  struct accord_err *err);

/* The journal, from generation `since` on: cb gets each entry's lines
 * (JSON text, header first, the end marker last); a non-zero return stops
 * the walk. */
typedef int (*accord_journal_cb)(uint64_t gen, const char *line, void *ctx);
int accord_registry_journal(struct accord_registry *reg, uint64_t since,
			    accord_journal_cb cb, void *ctx,
			    struct accord_err *err);

#endif
