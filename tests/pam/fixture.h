/* SPDX-License-Identifier: MIT */
/*
 * A registry for the PAM tests, made through libaccord's stable API (the
 * same calls accordctl makes): a directory DIR holding
 *
 *   DIR/reg          the registry (its secrets store created)
 *   DIR/snapshot     this "host"'s local snapshot, synced after each commit
 *   DIR/accord.conf  registry, snapshot, audit_file = DIR/audit.log, plus
 *                    whatever lines the test adds
 *
 * Shared by the cmocka test (test_pam_module.c) and the pamfix tool that
 * the sshd test drives.  Functions return 0 or a negative errno with err
 * filled, like libaccord.
 */
#ifndef ACCORD_PAM_FIXTURE_H
#define ACCORD_PAM_FIXTURE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <accord/error.h>
#include <accord/logon.h>
#include <accord/registry.h>
#include <accord/state.h>

struct pf {
	char dir[PATH_MAX / 2];
	char reg[PATH_MAX], snap[PATH_MAX], conf[PATH_MAX], audit[PATH_MAX];
	struct accord_actor actor;
	struct accord_config cfg;
	struct accord_registry *registry;
};

/* Creates the registry (UIDs and GIDs 60000-60999) in dir (which must
 * exist), the secrets store, accord.conf (with conf_extra, may be NULL)
 * and the first local snapshot. */
int pf_create(struct pf *f, const char *dir, const char *conf_extra,
	      struct accord_err *err);
/* Opens what pf_create made in dir. */
int pf_open(struct pf *f, const char *dir, struct accord_err *err);
void pf_close(struct pf *f);
/* Rewrites accord.conf: the base lines, then extra (may be NULL). */
int pf_write_conf(struct pf *f, const char *extra, struct accord_err *err);

/* A write: begin, change accord_txn_state(*tx), commit (which also
 * installs the local snapshot). */
int pf_begin(struct pf *f, struct accord_txn **tx, struct accord_err *err);
int pf_commit(struct pf *f, struct accord_txn *tx, const char *what,
	      struct accord_err *err);

/* The profile reference (uid, created) of name in the local snapshot.
 * name must outlive the reference. */
int pf_ref(struct pf *f, const char *name, struct accord_profile_ref *ref,
	   struct accord_err *err);
/* Sets the password of name in the secrets store. */
int pf_passwd(struct pf *f, const char *name, const char *pw,
	      struct accord_err *err);

#endif
