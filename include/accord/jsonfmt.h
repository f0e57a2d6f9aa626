/* SPDX-License-Identifier: MIT */
/*
 * The JSON shapes of profiles, groups, applications, swap rules and
 * tombstones, shared by the journal (before/after) and accordctl --json,
 * so both always agree.
 * Field names: name, uid, gid, gecos, home, shell, status
 * (enabled|disabled|revoked), revoke_reason, no-password, protected,
 * shared, revoke_date, resume_date (ISO 8601 UTC or null), created,
 * changed (ISO 8601 UTC); groups: name, gid, members, shared, created,
 * changed; applications: name, uacc (none|read), entries [{type
 * (user|group), name, access (none|read)}], created, changed; swap rules:
 * kind (permit|deny), from, to, created.
 */
#ifndef ACCORD_JSONFMT_H
#define ACCORD_JSONFMT_H

#include <json-c/json.h>
#include <stdint.h>

#include <accord/snapshot.h>
#include <accord/state.h>

const char *accord_status_name(uint32_t flags);
/* "2026-11-21T13:55:00Z" */
void accord_time_iso(int64_t t, char *buf, size_t len);

json_object *accord_json_user_snap(const struct accord_snap_user *u);
json_object *accord_json_user_state(const struct accord_user *u);
json_object *accord_json_group_snap(const struct accord_snap_group *g);
json_object *accord_json_group_state(const struct accord_state *st,
				     const struct accord_group *g);
/* "none", "read" */
const char *accord_access_name(uint32_t access);
json_object *accord_json_appl_snap(const struct accord_snap_appl *a);
json_object *accord_json_appl_state(const struct accord_state *st,
				    const struct accord_appl *a);
json_object *accord_json_swap_snap(const struct accord_snap_swap *w);
json_object *accord_json_swap_state(const struct accord_swap_rule *w);
json_object *accord_json_tomb(uint32_t kind, uint32_t id, int64_t when,
			      const char *name, const char *by);
/* Plain one-line serialization (no slash escaping). */
const char *accord_json_line(json_object *o);

#endif
