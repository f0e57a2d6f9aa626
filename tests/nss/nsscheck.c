/* SPDX-License-Identifier: MIT */
#include "nsscheck.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nss_accord.h"

#define MAX_SYNTHETIC 4096

void expect_from_state(struct expect *e, const struct accord_state *st)
{
	const struct accord_user *a = accord_state_user(st, "alice");
	const struct accord_user *b = accord_state_user(st, "bob");

	e->alice_uid = a->uid;
	e->alice_gid = a->gid;
	e->bob_uid = b->uid;
	e->bob_gid = b->gid;
	e->dev = accord_state_group(st, "dev")->gid;
	e->ops = accord_state_group(st, "ops")->gid;
}

static bool bad(const char *what, enum nss_status s, int err)
{
	fprintf(stderr, "FAIL: %s: status %d errno %d\n", what, (int)s, err);
	return false;
}

static bool has_member(char **mem, const char *name)
{
	for (; *mem; mem++)
		if (strcmp(*mem, name) == 0)
			return true;
	return false;
}

static bool check_initgroups(const struct expect *e)
{
	long int start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	gid_t lo = e->dev < e->ops ? e->dev : e->ops;
	gid_t hi = e->dev < e->ops ? e->ops : e->dev;
	enum nss_status s;
	bool ok;
	int err = 0;

	if (!groups)
		return bad("initgroups: malloc", 0, ENOMEM);
	groups[0] = e->alice_gid;
	s = _nss_accord_initgroups_dyn("alice", e->alice_gid, &start, &size,
				       &groups, -1, &err);
	ok = s == NSS_STATUS_SUCCESS && start == 3 &&
	     groups[0] == e->alice_gid && groups[1] == lo && groups[2] == hi;
	free(groups);
	return ok ? true : bad("initgroups_dyn alice", s, err);
}

bool check_lookup(const struct expect *e, unsigned kind, char *buf,
		  size_t len)
{
	struct passwd pw;
	struct group gr;
	enum nss_status s;
	int err = 0;

	switch (kind % CHECK_KINDS) {
	case 0:
		s = _nss_accord_getpwnam_r("alice", &pw, buf, len, &err);
		if (s != NSS_STATUS_SUCCESS || pw.pw_uid != e->alice_uid ||
		    pw.pw_gid != e->alice_gid || strcmp(pw.pw_name, "alice") ||
		    strcmp(pw.pw_gecos, "Alice Example") ||
		    strcmp(pw.pw_dir, "/home/alice"))
			return bad("getpwnam_r alice", s, err);
		return true;
	case 1:
		s = _nss_accord_getpwuid_r(e->bob_uid, &pw, buf, len, &err);
		if (s != NSS_STATUS_SUCCESS || strcmp(pw.pw_name, "bob") ||
		    pw.pw_gid != e->bob_gid)
			return bad("getpwuid_r bob", s, err);
		return true;
	case 2:
		s = _nss_accord_getgrnam_r("dev", &gr, buf, len, &err);
		if (s != NSS_STATUS_SUCCESS || gr.gr_gid != e->dev ||
		    !has_member(gr.gr_mem, "alice") ||
		    !has_member(gr.gr_mem, "bob"))
			return bad("getgrnam_r dev", s, err);
		return true;
	case 3:
		s = _nss_accord_getgrgid_r(e->ops, &gr, buf, len, &err);
		if (s != NSS_STATUS_SUCCESS || strcmp(gr.gr_name, "ops") ||
		    !gr.gr_mem[0] || strcmp(gr.gr_mem[0], "alice") ||
		    gr.gr_mem[1])
			return bad("getgrgid_r ops", s, err);
		return true;
	default:
		return check_initgroups(e);
	}
}

int check_pw_pass(char *buf, size_t len, char *letter)
{
	static unsigned char seen[MAX_SYNTHETIC + 1];
	unsigned n = 0, alice = 0, bob = 0, k, maxk = 0;
	struct passwd pw;
	enum nss_status s;
	char x, first = 0;
	int err = 0, ret = -1;

	memset(seen, 0, sizeof(seen));
	if (_nss_accord_setpwent(0) != NSS_STATUS_SUCCESS) {
		bad("setpwent", 0, 0);
		return -1;
	}
	while ((s = _nss_accord_getpwent_r(&pw, buf, len, &err)) ==
	       NSS_STATUS_SUCCESS) {
		n++;
		if (strcmp(pw.pw_name, "alice") == 0) {
			alice++;
		} else if (strcmp(pw.pw_name, "bob") == 0) {
			bob++;
		} else if (sscanf(pw.pw_name, "%c%7u", &x, &k) == 2 &&
			   x >= 'a' && x <= 'z' && (!first || x == first) &&
			   k >= 1 && k <= MAX_SYNTHETIC && !seen[k]) {
			first = x;
			seen[k] = 1;
			if (k > maxk)
				maxk = k;
		} else {
			fprintf(stderr, "FAIL: pass: unexpected, repeated or "
					"other generation's user %s\n",
				pw.pw_name);
			goto out;
		}
	}
	if (s != NSS_STATUS_NOTFOUND || err != 0) {
		bad("getpwent_r end", s, err);
		goto out;
	}
	/* every index up to the largest, once: one generation's users */
	if (alice != 1 || bob != 1 || n != maxk + 2) {
		fprintf(stderr,
			"FAIL: pass of %u users is not one generation\n", n);
		goto out;
	}
	*letter = first;
	ret = (int)maxk;
out:
	_nss_accord_endpwent();
	return ret;
}

int user_exists(const char *name)
{
	char buf[4096];
	struct passwd pw;
	int err = 0;

	switch (_nss_accord_getpwnam_r(name, &pw, buf, sizeof(buf), &err)) {
	case NSS_STATUS_SUCCESS:
		return 1;
	case NSS_STATUS_NOTFOUND:
		return 0;
	default:
		return -1;
	}
}
