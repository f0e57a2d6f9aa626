/* SPDX-License-Identifier: MIT */
/*
 * The registry's state in memory: profiles, groups, tombstones, ID ranges
 * and counters.  A writer loads it from the current snapshot, changes it
 * with the operations below (each validates and refuses with a clear
 * message, leaving the state as it was), and builds the next snapshot
 * from it.  Nothing here touches files.
 */
#ifndef ACCORD_STATE_H
#define ACCORD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>
#include <accord/snapshot.h>

/* Linux limits we enforce on every input. */
#define ACCORD_NAME_MAX 32     /* user and group names */
#define ACCORD_GECOS_MAX 1024
#define ACCORD_PATH_MAX 1024   /* home and shell */
#define ACCORD_REASON_MAX 256
#define ACCORD_MAX_MEMBERS 65536
#define ACCORD_ID_MAX 2147483647u /* IDs stay below 2^31 */

struct accord_range {
	uint32_t lo, hi;
};

struct accord_user {
	char *name, *gecos, *home, *shell, *reason; /* reason: revoke reason */
	uint32_t uid, gid;
	uint32_t flags;      /* status | ACCORD_F_* */
	int64_t created, changed;
	int64_t revoke_date, resume_date; /* 0: none (RACF REVOKE/RESUME dates) */
	char *racf_id;       /* PassTicket user ID alias (upper case); NULL or
				"": none, the name upper-cased is used */
	bool live;           /* false once deleted in this state */
	uint32_t old_off;    /* record offset in the snapshot it was loaded
				from, ACCORD_NOT_LOADED for a new profile */
	char *block;         /* one allocation holding the loaded strings */
	size_t block_len;
};
#define ACCORD_NOT_LOADED UINT32_MAX

struct accord_group {
	char *name;
	uint32_t gid, flags; /* ACCORD_F_SHARED_ID */
	int64_t created, changed;
	uint32_t *members;   /* indexes into the user table, insertion order */
	uint32_t nmembers, cap;
	bool live;
	uint32_t old_off;    /* as for users */
};

/* One access-list entry of an application: a user or a group, by name. */
struct accord_ace {
	uint32_t kind;       /* enum accord_ace_kind */
	uint32_t access;     /* enum accord_access */
	char *name;
};

/* An application profile (RACF APPL class). */
struct accord_appl {
	char *name;
	uint32_t uacc;       /* enum accord_access */
	int64_t created, changed;
	struct accord_ace *entries; /* sorted: kind, then name */
	uint32_t nentries, cap;
	bool live;
	uint32_t old_off;    /* as for users */
};

/* A swap rule: members of group `from` may (permit) or may not (deny)
 * swap to profile `to`.  Deny wins. */
struct accord_swap_rule {
	uint32_t kind;       /* enum accord_swap_kind */
	char *from, *to;
	int64_t created;
	bool live;
	uint32_t old_off;    /* as for users */
};

struct accord_tombstone {
	uint32_t kind, id;   /* enum accord_tomb_kind */
	int64_t deleted_at;
	char *name, *by;
};

struct accord_state;

struct accord_state *accord_state_new(const struct accord_range *uids,
				      const struct accord_range *gids);
int accord_state_from_snapshot(const struct accord_snapshot *snap,
			       struct accord_state **out,
			       struct accord_err *err);
void accord_state_free(struct accord_state *st);

/* The clock and the acting user recorded by the operations that follow
 * (created/changed times, tombstones). */
void accord_state_set_actor(struct accord_state *st, int64_t now,
			    const char *actor);

/* Read access. */
size_t accord_state_user_count(const struct accord_state *st);  /* live */
size_t accord_state_group_count(const struct accord_state *st); /* live */
size_t accord_state_user_slots(const struct accord_state *st);  /* all */
size_t accord_state_group_slots(const struct accord_state *st);
size_t accord_state_tomb_count(const struct accord_state *st);
const struct accord_user *accord_state_user_at(const struct accord_state *st,
					       size_t i);
const struct accord_group *accord_state_group_at(const struct accord_state *st,
						 size_t i);
const struct accord_tombstone *accord_state_tomb_at(const struct accord_state *st,
						    size_t i);
const struct accord_user *accord_state_user(const struct accord_state *st,
					    const char *name);
const struct accord_group *accord_state_group(const struct accord_state *st,
					      const char *name);
const struct accord_group *accord_state_group_by_gid(const struct accord_state *st,
						     uint32_t gid);
void accord_state_ranges(const struct accord_state *st,
			 struct accord_range *uids, struct accord_range *gids,
			 uint32_t *next_uid, uint32_t *next_gid);
/* Supplementary groups of a user (group table indexes), sorted by GID.
 * Returns the count, or -ENOMEM; *out is malloc'd (free it). */
int accord_state_user_groups(const struct accord_state *st, const char *name,
			     uint32_t **out);

/* Profile fields for add and mod; NULL / false means "not given". */
struct accord_user_spec {
	const char *name;
	bool has_uid;
	uint32_t uid;
	const char *group;   /* primary group: name or numeric GID */
	const char *groups;  /* supplementary groups, "g1,g2" ("" = none) */
	const char *gecos, *home, *shell;
	bool shared;         /* allow a taken or out-of-range ID (SHARED.IDS) */
	bool has_revoke_date, has_resume_date; /* a date of 0 clears it */
	int64_t revoke_date, resume_date;
	const char *racf_id; /* RACF user ID alias; "" clears it */
};

/* Defaults used by user add when --home/--shell are not given. */
struct accord_defaults {
	const char *home_base; /* "/home" */
	const char *shell;     /* "/bin/bash" */
};

/*
 * user add: with no group, a personal group of the same name is created
 * (its GID allocated like any other).  IDs come from the range by counter;
 * an explicit ID that is taken (live or tombstone) or out of range needs
 * spec->shared.
 */
int accord_user_add(struct accord_state *st, const struct accord_user_spec *spec,
		    const struct accord_defaults *def, struct accord_err *err);
int accord_user_mod(struct accord_state *st, const struct accord_user_spec *spec,
		    struct accord_err *err);
/* user del: leaves a tombstone; removes the user from its groups; deletes
 * its personal group when nobody else uses it (as userdel does). */
int accord_user_del(struct accord_state *st, const char *name,
		    struct accord_err *err);
/*
 * Status changes, with RACF's rules: enable lifts disabled only; a revoke
 * is lifted only by resume; resume on a profile that is not revoked is
 * ignored.  Returns 1 when nothing changed, 0 when changed.
 */
enum accord_status_op {
	ACCORD_OP_ENABLE,
	ACCORD_OP_DISABLE,
	ACCORD_OP_REVOKE,  /* reason: NULL means "administrator" */
	ACCORD_OP_RESUME,
};
int accord_user_status_op(struct accord_state *st, const char *name,
			  enum accord_status_op op, const char *reason,
			  struct accord_err *err);
int accord_user_set_flag(struct accord_state *st, const char *name,
			 uint32_t flag, bool on, struct accord_err *err);

int accord_group_add(struct accord_state *st, const char *name, bool has_gid,
		     uint32_t gid, bool shared, struct accord_err *err);
int accord_group_del(struct accord_state *st, const char *name,
		     struct accord_err *err);
/* 1 when nothing changed (already a member / not a member). */
int accord_group_adduser(struct accord_state *st, const char *group,
			 const char *user, struct accord_err *err);
int accord_group_deluser(struct accord_state *st, const char *group,
			 const char *user, struct accord_err *err);

/*
 * Applications (RACF APPL class).  Names follow accord_check_name() (PAM
 * service names are lower case too).  permit adds or changes the entry of
 * a user or group that must exist; revoke-access removes it.  Deleting a
 * user or a group removes its entries from every application and its swap
 * rules.  Return 1 when nothing changed.
 */
int accord_appl_add(struct accord_state *st, const char *name, uint32_t uacc,
		    struct accord_err *err);
int accord_appl_del(struct accord_state *st, const char *name,
		    struct accord_err *err);
int accord_appl_set_uacc(struct accord_state *st, const char *name,
			 uint32_t uacc, struct accord_err *err);
int accord_appl_permit(struct accord_state *st, const char *appl,
		       uint32_t kind, const char *who, uint32_t access,
		       struct accord_err *err);
int accord_appl_revoke_access(struct accord_state *st, const char *appl,
			      uint32_t kind, const char *who,
			      struct accord_err *err);
size_t accord_state_appl_slots(const struct accord_state *st);
const struct accord_appl *accord_state_appl_at(const struct accord_state *st,
					       size_t i);
const struct accord_appl *accord_state_appl(const struct accord_state *st,
					    const char *name);

/*
 * Swap rules.  from must be an existing group; to is any valid name (an
 * accord profile or a local account such as root).  permit/deny on an
 * existing (from, to) pair changes its kind; del removes it.  Return 1
 * when nothing changed.
 */
int accord_swap_set(struct accord_state *st, uint32_t kind, const char *from,
		    const char *to, struct accord_err *err);
int accord_swap_del(struct accord_state *st, const char *from, const char *to,
		    struct accord_err *err);
size_t accord_state_swap_slots(const struct accord_state *st);
const struct accord_swap_rule *accord_state_swap_at(const struct accord_state *st,
						    size_t i);

/* Validation, shared with the import parser and the CLI. */
int accord_check_name(const char *what, const char *name,
		      struct accord_err *err);
int accord_check_field(const char *what, const char *value, size_t max,
		       bool absolute_path, struct accord_err *err);
int accord_check_range(const char *what, const struct accord_range *r,
		       struct accord_err *err);
int accord_parse_range(const char *s, struct accord_range *r);
int accord_parse_id(const char *s, uint32_t *id);
/* IDs that are never allocated automatically (65534, 65535, systemd's). */
bool accord_id_reserved(uint32_t id);

/* Build the snapshot of this state as generation gen, with a new random
 * hash seed.  *buf is malloc'd. */
int accord_snapshot_build(const struct accord_state *st, uint64_t generation,
			  const unsigned char uuid[16], int64_t created,
			  unsigned char **buf, size_t *len,
			  struct accord_err *err);

#endif
