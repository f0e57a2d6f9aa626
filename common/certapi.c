/* SPDX-License-Identifier: MIT */
/*
 * accord_cert_map_der(): certificate mapping in one call, for
 * applications (include/accord/certmap.h).  It reads what pam_accord
 * reads (accord.conf and the host-local snapshot, both checked) and
 * decides as it does: chain first, then RACF's search order.
 */
#include <accord/certmap.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <accord/certverify.h>
#include <accord/registry.h>
#include <accord/snapshot.h>

#include "accord_config.h"

int accord_cert_map_der(const char *conf_path, const unsigned char *der, size_t len,
			const char *appl, struct accord_cert_decision *out,
			struct accord_err *err)
{
	struct accord_config cfg;
	struct accord_snapshot snap;
	struct accord_certdb db;
	struct accord_trust *trust = NULL;
	struct accord_cert_policy pol;
	struct accord_cert_verdict verdict = { 0 };
	struct accord_certnames names = { 0 };
	struct accord_certmap_ctx ctx = { 0 };
	accord_snap_why why = NULL;
	char host[256] = "";
	const void *blob;
	size_t blen;
	X509 *x = NULL;
	bool mapped = false;
	int r;

	memset(out, 0, sizeof(*out));
	accord_config_defaults(&cfg);
	r = accord_config_load(conf_path ? conf_path : ACCORD_CONF_PATH, false, &cfg, err);
	if (r < 0)
		return r;
	r = accord_snapshot_map_file(cfg.snapshot, ACCORD_SNAP_TRUSTED_OWNER, &snap, &why);
	if (r < 0)
		return accord_err_set(err, r, "snapshot %s: %s", cfg.snapshot,
				      why ? why : strerror(-r));
	mapped = true;
	out->generation = snap.generation;
	accord_snap_certdb(&snap, &blob, &blen);
	r = accord_certdb_open(blob, blen, &db, err);
	if (r == 0)
		r = accord_certdb_trust(&db, &trust, err);
	if (r < 0)
		goto out;
	x = accord_cert_load(der, len, err);
	if (!x) {
		r = -EINVAL;
		goto out;
	}
	accord_cert_policy_from_config(&cfg, &pol);
	r = accord_trust_verify(trust, x, NULL, &pol, &verdict);
	if (r < 0) {
		accord_err_set(err, r, "chain verification failed");
		goto out;
	}
	out->chain = verdict.reason;
	snprintf(out->chain_detail, sizeof(out->chain_detail), "%s", verdict.detail);
	r = accord_certnames_from_x509(x, &names, err);
	if (r < 0)
		goto out;
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	host[strcspn(host, ".")] = '\0';
	ctx.service = appl;
	ctx.host = host;
	ctx.mode = cfg.match ? ACCORD_MATCH_EXACT : ACCORD_MATCH_LDAP;
	r = accord_certmap_resolve(&db, &names, &ctx, NULL, NULL, &out->map);
	if (r < 0) {
		accord_err_set(err, r, "the certificate section of %s is damaged", cfg.snapshot);
		goto out;
	}
	out->ok = verdict.reason == ACCORD_CERT_OK && out->map.result == ACCORD_MAPPED;
out:
	accord_certnames_clear(&names);
	X509_free(x);
	accord_trust_free(trust);
	if (mapped)
		accord_snapshot_unmap(&snap);
	return r;
}
