/* SPDX-License-Identifier: MIT */
/*
 * accordctl internals: the command table, the shared context and the one
 * place that turns a library result into an exit code (sysexits(3)).
 */
#ifndef ACCORDCTL_CLI_H
#define ACCORDCTL_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sysexits.h>

#include <accord/registry.h>

/* Exit codes besides sysexits: accordctl check found problems. */
#define EXIT_PROBLEMS 1

struct cli {
	struct accord_config cfg;
	const char *registry;      /* --registry, else cfg.registry */
	bool json;
	struct accord_registry *reg;
	struct accord_actor actor;
};

/* Where a failure happened decides its exit code (see exit_for()). */
enum phase {
	PH_OPEN,    /* config, registry directory */
	PH_LOCK,    /* taking the writer lock, loading the state */
	PH_OP,      /* the operation itself: validation, conflicts */
	PH_COMMIT,  /* publishing */
	PH_SYNC,    /* installing the local snapshot */
	PH_INPUT,   /* reading an input file */
};

int exit_for(enum phase ph, int err);
/* Prints "accordctl: msg" (and the JSON error object with --json); returns
 * the exit code for (ph, e->code). */
int fail(struct cli *c, enum phase ph, const struct accord_err *e);
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int open_registry(struct cli *c);
/* Maps the current generation for a read command. */
int read_current(struct cli *c, struct accord_snapshot *snap);

/* A write: lock, load, apply fn, commit, sync the local host.  fn returns
 * 0 (changed) / 1 (already so) / negative errno with e filled. */
typedef int (*write_fn)(struct accord_state *st, void *arg, struct accord_err *e);
struct write_result {
	uint64_t generation;
	size_t changes;
	bool synced;
};
int run_write(struct cli *c, const char *operation, write_fn fn, void *arg,
	      struct write_result *res);
/* Prints a write's outcome: msg when something changed, unchanged_msg
 * when not; JSON: {"generation","changes","message"}. */
void report_write(struct cli *c, const struct write_result *res,
		  const char *msg, const char *unchanged_msg);

void print_json(json_object *o); /* prints and frees */

int cmd_init(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_group(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_who_has(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_log(struct cli *c, int argc, char **argv);
int cmd_appl(struct cli *c, int argc, char **argv);
int cmd_swap(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_passticket(struct cli *c, int argc, char **argv);
int cmd_certmap(struct cli *c, int argc, char **argv);
int cmd_ca(struct cli *c, int argc, char **argv);
int cmd_crl(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);   /* cmd_backup.c */
int cmd_diff(struct cli *c, int argc, char **argv);     /* cmd_backup.c */
int cmd_restore(struct cli *c, int argc, char **argv);  /* cmd_restore.c */
int cmd_storage(struct cli *c, int argc, char **argv);  /* cmd_storage.c */


#endif
