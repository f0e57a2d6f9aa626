/* SPDX-License-Identifier: MIT */
/*
 * accordctl: the admin tool.  A thin adapter: argv in, libaccord does the
 * work, text or JSON out, and one function (exit_for) maps results to exit
 * codes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <accord/jsonfmt.h>

#include "accord_config.h"
#include "cli.h"

static const char usage_text[] =
	"usage: accordctl [--registry DIR] [--json] COMMAND ...\n"
	"\n"
	"  init [--uid-range LO-HI] [--gid-range LO-HI]\n"
	"  user add NAME [--uid N] [--group G] [--groups G1,G2] [--gecos S]\n"
	"                [--home DIR] [--shell PATH] [--shared]\n"
	"                [--protected yes|no] [--no-password yes|no]\n"
	"                [--racf-id ID|none]\n"
	"  user mod NAME [same options] [--revoke-date DATE|none]\n"
	"                [--resume-date DATE|none]\n"
	"  user del NAME [--owned-files transfer:USER|default-owner|keep]\n"
	"  user show NAME | user list\n"
	"  user enable|disable|resume NAME | user revoke NAME [--reason TEXT]\n"
	"  user passwd NAME          (password from the terminal or stdin)\n"
	"  user passwd --none NAME\n"
	"  group add NAME [--gid N] [--shared]\n"
	"  group del NAME [--owned-files transfer:GROUP|default-owner|keep]\n"
	"  group show NAME | group list\n"
	"  group adduser GROUP USER | group deluser GROUP USER\n"
	"  appl add NAME [--uacc none|read] | appl mod NAME --uacc none|read\n"
	"  appl del NAME | appl show NAME | appl list\n"
	"  appl permit NAME --group G|--user U [--access none|read]\n"
	"  appl revoke-access NAME --group G|--user U\n"
	"  swap permit|deny|del --from GROUP --to PROFILE | swap list\n"
	"  import --passwd FILE [--group FILE] [--shared]\n"
	"  who-has uid N | who-has gid N\n"
	"  sync [--to PATH] [--force]\n"
	"  check\n"
	"  log [--since GEN]\n"
	"  audit [--user U] [--since TIME] [--file PATH]\n"
	"  passticket key set APPL (--key-hex HEX|- | --generate)\n"
	"                [--algorithm legacy|enhanced] [--type upper|mixed]\n"
	"                [--window SECONDS] [--no-replay-protection] [--masked]\n"
	"  passticket key del APPL | passticket key list [--show]\n"
	"  passticket permit APPL --group G|--user U [--remove]\n"
	"  passticket permits [APPL]\n"
	"  passticket generate --user U --appl APPL [--time EPOCH]\n"
	"  passticket verify --user U --appl APPL --ticket T [--time EPOCH]\n"
	"                [--consume]\n"
	"  passticket decode --user U --appl APPL --ticket T [--time EPOCH]\n"
	"  certmap add (--user U | --multiid --criteria T) [--sdn F] [--idn F]\n"
	"              [--label L] [--notrust] [--from-cert FILE]\n"
	"  certmap list [--user U] | certmap show LABEL [--user U]\n"
	"  certmap alter LABEL [--user U] [--new-label L] [--trust | --notrust]\n"
	"  certmap del LABEL [--user U]\n"
	"  certmap register CERT --user U [--label L] [--notrust]\n"
	"  certmap test CERT [--chain FILE] [--service S] [--host H] [--rhost R]\n"
	"               [--tty T] [--var NAME=VALUE]...\n"
	"  certmap import-racf FILE\n"
	"  certmap criteria add NAME --user U | criteria del NAME | criteria list\n"
	"  ca add CERT [--label L] [--trust | --notrust | --hightrust] | ca list\n"
	"  ca alter LABEL (--trust | --notrust | --hightrust) | ca del LABEL\n"
	"  crl add FILE | crl list\n"
	"  restore FILE [--dry-run] [--exclude PATTERN]... [--only CLASS,...]\n"
	"               [--include-secrets] [--full] [--foreign] [--yes]\n"
	"               [--reapply-since-backup]\n"
	"  storage register PATH --name NAME | storage scan NAME|PATH\n"
	"  storage list | storage show NAME|PATH | storage detach NAME|PATH\n"
	"  storage attach PATH [--dry-run | --apply] [--chown]\n"
	"  backup FILE [--include-secrets] | backup verify FILE\n"
	"  diff BACKUP [BACKUP2]     (without BACKUP2: against the live registry)\n"
	"\n"
	"The registry comes from --registry or 'registry =' in accord.conf\n"
	"(" ACCORD_CONF_PATH ", or the file named by ACCORD_CONF).\n"
	"See accordctl(8).\n";

int exit_for(enum phase ph, int err)
{
	switch (err) {
	case 0:
		return EX_OK;
	case -ENOMEM:
		return EX_OSERR;
	case -EACCES:
		return EX_NOPERM;
	case -EAGAIN:
	case -ESTALE:
		return ph == PH_SYNC && err == -ESTALE ? EX_DATAERR : EX_TEMPFAIL;
	default:
		break;
	}
	switch (ph) {
	case PH_OPEN:
		if (err == -EPERM)
			return EX_NOPERM;
		return err == -EBADMSG ? EX_DATAERR : EX_CONFIG;
	case PH_LOCK:
		if (err == -EPERM)
			return EX_NOPERM;
		/* damaged, or written by a newer accordctl (sections this one
		 * does not know and would drop) */
		return err == -EBADMSG || err == -EPROTONOSUPPORT ? EX_DATAERR : EX_IOERR;
	case PH_OP:
		if (err == -ENOENT)
			return EX_NOUSER;
		if (err == -ENOSPC)
			return EX_UNAVAILABLE;
		return EX_DATAERR;
	case PH_INPUT:
		if (err == -ENOENT || err == -EISDIR)
			return EX_NOINPUT;
		if (err == -EPERM) /* a file we do not trust (owner, mode, link) */
			return EX_NOPERM;
		return err == -EINVAL || err == -EFBIG ? EX_DATAERR : EX_IOERR;
	case PH_COMMIT:
	case PH_SYNC:
		if (err == -EPERM)
			return EX_NOPERM;
		return err == -EBADMSG || err == -E2BIG ? EX_DATAERR : EX_IOERR;
	}
	return EX_SOFTWARE;
}

void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int fail(struct cli *c, enum phase ph, const struct accord_err *e)
{
	int code = exit_for(ph, e->code);

	fprintf(stderr, "accordctl: %s\n", e->msg[0] ? e->msg : strerror(-e->code));
	if (c && c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(
						   e->msg[0] ? e->msg : strerror(-e->code)));
		json_object_object_add(o, "exit", json_object_new_int(code));
		print_json(o);
	}
	return code;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("accordctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see 'accordctl --help')\n", stderr);
	return EX_USAGE;
}

int open_registry(struct cli *c)
{
	struct accord_err e = { 0 };
	int r;

	if (c->reg)
		return 0;
	r = accord_registry_open(c->registry, &c->cfg, &c->reg, &e);
	return r < 0 ? fail(c, PH_OPEN, &e) : 0;
}

int read_current(struct cli *c, struct accord_snapshot *snap)
{
	struct accord_err e = { 0 };
	int r = open_registry(c);

	if (r)
		return r;
	r = accord_registry_current(c->reg, false, snap, &e);
	return r < 0 ? fail(c, PH_OPEN, &e) : 0;
}

int run_write(struct cli *c, const char *operation, write_fn fn, void *arg,
	      struct write_result *res)
{
	struct accord_err e = { 0 };
	struct accord_sync_result sr;
	struct accord_txn *tx;
	int r;

	memset(res, 0, sizeof(*res));
	r = open_registry(c);
	if (r)
		return r;
	r = accord_txn_begin(c->reg, &c->actor, &tx, &e);
	if (r < 0)
		return fail(c, PH_LOCK, &e);
	r = fn(accord_txn_state(tx), arg, &e);
	if (r < 0) {
		accord_txn_abort(tx); /* nothing was written */
		return fail(c, PH_OP, &e);
	}
	r = accord_txn_commit(tx, operation, &res->generation, &res->changes, &e);
	if (r < 0)
		return fail(c, PH_COMMIT, &e);
	/* every write installs the result on this host at once, so that the
	 * next getent/chown here sees it */
	r = accord_registry_sync(c->reg, c->cfg.snapshot, false, res->generation, &sr, &e);
	if (r < 0) {
		accord_err_prefix(&e, e.code,
				  "the change is committed (generation %" PRIu64 "), but "
				  "this host's snapshot %s was not updated; run 'accordctl "
				  "sync'", res->generation, c->cfg.snapshot);
		return fail(c, PH_SYNC, &e);
	}
	res->synced = true;
	return 0;
}

void report_write(struct cli *c, const struct write_result *res,
		  const char *msg, const char *unchanged_msg)
{
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "generation", json_object_new_int64((int64_t)res->generation));
		json_object_object_add(o, "changes", json_object_new_int64((int64_t)res->changes));
		json_object_object_add(o, "message", json_object_new_string(
						   res->changes ? msg : unchanged_msg));
		print_json(o);
		return;
	}
	if (res->changes)
		printf("%s (generation %" PRIu64 ")\n", msg, res->generation);
	else
		printf("%s\n", unchanged_msg);
}

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
} commands[] = {
	{ "init", cmd_init },       { "user", cmd_user },   { "group", cmd_group },
	{ "import", cmd_import },   { "who-has", cmd_who_has }, { "sync", cmd_sync },
	{ "check", cmd_check },     { "log", cmd_log },         { "appl", cmd_appl },
	{ "swap", cmd_swap },       { "audit", cmd_audit },
	{ "passticket", cmd_passticket },
	{ "certmap", cmd_certmap },   { "ca", cmd_ca },           { "crl", cmd_crl },
	{ "backup", cmd_backup },     { "diff", cmd_diff },       { "restore", cmd_restore },
	{ "storage", cmd_storage },
};

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	struct accord_err e = { 0 };
	const char *conf;
	char **args;
	int nargs = 0, i, r = EX_USAGE;
	bool dashdash = false;

	accord_config_defaults(&c.cfg);
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return EX_OSERR;
	/* global options may stand anywhere before "--" */
	args[nargs++] = argv[0];
	for (i = 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = true;
			args[nargs++] = argv[i];
		} else if (!dashdash && !strcmp(argv[i], "--json")) {
			c.json = true;
		} else if (!dashdash && !strcmp(argv[i], "--registry")) {
			if (i + 1 >= argc) {
				r = usage_error("--registry needs a directory");
				goto out;
			}
			c.registry = argv[++i];
		} else if (!dashdash && !strncmp(argv[i], "--registry=", 11)) {
			c.registry = argv[i] + 11;
		} else if (!dashdash && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) &&
			   nargs == 1) {
			fputs(usage_text, stdout);
			r = EX_OK;
			goto out;
		} else if (!dashdash && !strcmp(argv[i], "--version") && nargs == 1) {
			printf("accordctl %s\n", ACCORD_VERSION);
			r = EX_OK;
			goto out;
		} else {
			args[nargs++] = argv[i];
		}
	}
	if (nargs < 2) {
		fputs(usage_text, stderr);
		goto out;
	}
	/* the config: ACCORD_CONF (ignored in setuid/setgid context) or the
	 * default path; a missing default file is fine when --registry is
	 * given */
	conf = secure_getenv("ACCORD_CONF");
	if (conf && conf[0]) {
		r = accord_config_load(conf, false, &c.cfg, &e);
	} else {
		conf = ACCORD_CONF_PATH;
		r = accord_config_load(conf, true, &c.cfg, &e);
	}
	if (r < 0) {
		r = fail(&c, PH_OPEN, &e);
		goto out;
	}
	if (!c.registry)
		c.registry = c.cfg.registry;
	accord_actor_self(&c.actor);
	for (i = 0; i < (int)(sizeof(commands) / sizeof(commands[0])); i++)
		if (!strcmp(args[1], commands[i].name)) {
			/* each command sees argv[0] = its own name */
			r = commands[i].fn(&c, nargs - 1, args + 1);
			goto out;
		}
	r = usage_error("unknown command '%s'", args[1]);
out:
	accord_registry_close(c.reg);
	free(args);
	return r;
}
