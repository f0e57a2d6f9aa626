/* SPDX-License-Identifier: MIT */
/*
 * The secrets store's own directory, for the other parts of libaccord that
 * keep files in it (ptstore.c: PassTicket keys, permissions, the replay
 * cache).  Private to libaccord.
 */
#ifndef ACCORD_SECRETS_DIR_H
#define ACCORD_SECRETS_DIR_H

#include <accord/logon.h>

/*
 * The descriptor of <registry>/secrets that accord_secrets_open() opened
 * without following links and checked (owner, mode); it belongs to the
 * store: never close it.  *path (may be NULL) gets its path, for messages.
 */
int accord_secrets_dirfd(const struct accord_secrets *s, const char **path);

#endif
