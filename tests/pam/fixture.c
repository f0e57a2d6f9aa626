/* SPDX-License-Identifier: MIT */
#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <accord/logon.h>
#include <accord/snapshot.h>

static int pf_paths(struct pf *f, const char *dir, struct accord_err *err)
{
	memset(f, 0, sizeof(*f));
	if (dir[0] != '/' || strlen(dir) >= sizeof(f->dir))
		return accord_err_set(err, -EINVAL, "%s: want a short absolute path", dir);
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	snprintf(f->reg, sizeof(f->reg), "%s/reg", dir);
	snprintf(f->snap, sizeof(f->snap), "%s/snapshot", dir);
	snprintf(f->conf, sizeof(f->conf), "%s/accord.conf", dir);
	snprintf(f->audit, sizeof(f->audit), "%s/audit.log", dir);
	accord_actor_self(&f->actor);
	return 0;
}

int pf_write_conf(struct pf *f, const char *extra, struct accord_err *err)
{
	char tmp[PATH_MAX + 8];
	FILE *out;

	snprintf(tmp, sizeof(tmp), "%s.tmp", f->conf);
	out = fopen(tmp, "we");
	if (!out)
		return accord_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	fprintf(out, "registry = %s\nsnapshot = %s\naudit_file = %s\n%s%s", f->reg,
		f->snap, f->audit, extra ? extra : "",
		extra && *extra && extra[strlen(extra) - 1] != '\n' ? "\n" : "");
	if (fchmod(fileno(out), 0644) < 0 || fclose(out) != 0)
		return accord_err_set(err, -EIO, "cannot write %s", tmp);
	if (rename(tmp, f->conf) < 0)
		return accord_err_set(err, -errno, "rename %s: %s", tmp, strerror(errno));
	accord_config_defaults(&f->cfg);
	return accord_config_load(f->conf, false, &f->cfg, err);
}

int pf_create(struct pf *f, const char *dir, const char *conf_extra,
	      struct accord_err *err)
{
	struct accord_range r = { 60000, 60999 };
	struct accord_secrets *s = NULL;
	struct accord_txn *tx = NULL;
	int rc;

	rc = pf_paths(f, dir, err);
	if (rc == 0)
		rc = pf_write_conf(f, conf_extra, err);
	if (rc == 0)
		rc = accord_registry_init(f->reg, &r, &r, &f->actor, err);
	if (rc == 0)
		rc = accord_registry_open(f->reg, &f->cfg, &f->registry, err);
	if (rc == 0)
		rc = accord_secrets_open(f->reg, true, &s, err);
	accord_secrets_close(s);
	/* an empty commit publishes nothing but installs the snapshot */
	if (rc == 0)
		rc = pf_begin(f, &tx, err);
	if (rc == 0)
		rc = pf_commit(f, tx, "nothing", err);
	return rc;
}

int pf_open(struct pf *f, const char *dir, struct accord_err *err)
{
	int rc = pf_paths(f, dir, err);

	if (rc == 0) {
		accord_config_defaults(&f->cfg);
		rc = accord_config_load(f->conf, false, &f->cfg, err);
	}
	if (rc == 0)
		rc = accord_registry_open(f->reg, &f->cfg, &f->registry, err);
	return rc;
}

void pf_close(struct pf *f)
{
	accord_registry_close(f->registry);
	f->registry = NULL;
}

int pf_begin(struct pf *f, struct accord_txn **tx, struct accord_err *err)
{
	return accord_txn_begin(f->registry, &f->actor, tx, err);
}

int pf_commit(struct pf *f, struct accord_txn *tx, const char *what,
	      struct accord_err *err)
{
	struct accord_sync_result res;
	uint64_t gen = 0;
	size_t n = 0;
	int rc = accord_txn_commit(tx, what, &gen, &n, err);

	if (rc == 0)
		rc = accord_registry_sync(f->registry, f->snap, false, 0, &res, err);
	return rc;
}

int pf_ref(struct pf *f, const char *name, struct accord_profile_ref *ref,
	   struct accord_err *err)
{
	struct accord_snapshot s;
	struct accord_snap_user u;
	accord_snap_why why = NULL;
	int rc = accord_snapshot_map_file(f->snap, 0, &s, &why);

	if (rc < 0)
		return accord_err_set(err, rc, "%s: %s", f->snap, why ? why : strerror(-rc));
	rc = accord_snap_user_by_name(&s, name, &u);
	if (rc == 0) {
		ref->name = name;
		ref->uid = u.uid;
		ref->created = u.created;
	} else {
		accord_err_set(err, rc, "%s is not in %s", name, f->snap);
	}
	accord_snapshot_unmap(&s);
	return rc;
}

int pf_passwd(struct pf *f, const char *name, const char *pw,
	      struct accord_err *err)
{
	struct accord_profile_ref ref;
	struct accord_secrets *s = NULL;
	int rc = pf_ref(f, name, &ref, err);

	if (rc == 0)
		rc = accord_secrets_open(f->reg, false, &s, err);
	if (rc == 0)
		rc = accord_secret_set(s, &ref, pw, err);
	accord_secrets_close(s);
	return rc;
}
