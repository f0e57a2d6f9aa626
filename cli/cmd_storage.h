/* SPDX-License-Identifier: MIT */
/* The storage delete guard, used by user del and group del. */
#ifndef ACCORDCTL_CMD_STORAGE_H
#define ACCORDCTL_CMD_STORAGE_H

#include <accord/storage.h>

#include "cli.h"

/*
 * Before deleting the user or group `name` (kind: ACCORD_OWNER_*): the
 * registered storages on which it owns files.  owned is the
 * --owned-files value (NULL: not given): none of them -> refused (exit
 * 65) with the list; "keep" -> nothing is done; "transfer:NAME" or
 * "default-owner" -> the files are given to that profile (journaled per
 * storage, the manifests and records updated) before the delete.
 * Returns 0 to go on with the delete, else the exit code (message
 * printed).
 */
int storage_guard_delete(struct cli *c, uint32_t kind, const char *name,
			 const char *owned);

#endif
