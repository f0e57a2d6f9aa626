/* SPDX-License-Identifier: MIT */
/*
 * The state's tables, shared by the files that implement its operations
 * (common/state.c: profiles, groups, tombstones; common/appl.c:
 * applications and swap rules).  Nothing outside those two includes this.
 */
#ifndef ACCORD_STATE_PRIV_H
#define ACCORD_STATE_PRIV_H

#include <accord/state.h>

#include "idmap.h"

struct accord_state {
	struct accord_range uids, gids;
	uint32_t next_uid, next_gid;
	struct accord_user *users;
	size_t nusers, cap_users, live_users;
	struct accord_group *groups;
	size_t ngroups, cap_groups, live_groups;
	struct accord_tombstone *tombs;
	size_t ntombs, cap_tombs;
	struct accord_appl *appls;      /* slots, like users: deleted ones stay */
	size_t nappls, cap_appls, live_appls;
	struct accord_swap_rule *swaps; /* slots, in the order they were set */
	size_t nswaps, cap_swaps, live_swaps;
	struct strmap user_by_name, group_by_name, appl_by_name;
	struct idmap uid_count;  /* uid -> live users holding it */
	struct idmap gid_first;  /* gid -> index of the first live group */
	struct idmap gid_count;  /* gid -> live groups holding it */
	struct idmap tomb_uid, tomb_gid; /* id -> tombstones holding it */
	struct certstore *certs;        /* common/certmap.c; NULL until used */
	int64_t now;
	char *actor;
};

/* common/state.c */
int state_grow(void **arr, size_t *cap, size_t need, size_t elem);
char *state_dup_n(const char *s, size_t n);
struct accord_user *state_find_user(const struct accord_state *st,
				    const char *name);
struct accord_group *state_find_group(const struct accord_state *st,
				      const char *name);

/* common/appl.c */
int state_appls_init(struct accord_state *st);
void state_appls_free(struct accord_state *st);
/* Loads the applications and swap rules of snap (after the users and
 * groups): 0, -ENOMEM, or -EBADMSG for anything the operations would
 * refuse or the deep check would. */
int state_appls_load(struct accord_state *st, const struct accord_snapshot *snap);
/* The cascades of user del and group del: they cannot fail. */
void state_appls_forget_user(struct accord_state *st, const char *name);
void state_appls_forget_group(struct accord_state *st, const char *name);

/* common/certmap.c: certificate maps, registrations, criteria, CAs, CRLs */
void state_certs_free(struct accord_state *st);
/* 0, -ENOMEM, or -EBADMSG for a damaged certificate section */
int state_certs_load(struct accord_state *st, const struct accord_snapshot *snap);
/* user del: the user's maps, registrations and criteria entries go too
 * (RACF DELUSER deletes the user's DIGTNMAP profiles) */
void state_certs_forget_user(struct accord_state *st, const char *name);
/* Journal entries for the certificate objects that changed since snap
 * (json objects {"change","kind","name","before","after"}); *out malloc'd. */
struct json_object;
int state_certs_journal(const struct accord_snapshot *old, const struct accord_state *st,
			struct json_object ***out, size_t *n);
/* The SNAP_SEC_CERTDB section; *len 0 (and *buf NULL) when empty. */
int state_certs_serialize(const struct accord_state *st, uint64_t seed,
			  unsigned char **buf, size_t *len, struct accord_err *err);

#endif
