/* SPDX-License-Identifier: MIT */
/*
 * The secrets store's own directory, for the other parts of libaccord that
 * keep files in it (ptstore.c: PassTicket keys, permissions, the replay
 * cache).  Private to libaccord.
 */
#ifndef ACCORD_SECRETS_DIR_H
#define ACCORD_SECRETS_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <accord/error.h>
#include <accord/logon.h>

/*
 * The descriptor of <registry>/secrets that accord_secrets_open() opened
 * without following links and checked (owner, mode); it belongs to the
 * store: never close it.  *path (may be NULL) gets its path, for messages.
 */
int accord_secrets_dirfd(const struct accord_secrets *s, const char **path);

/* Shared by every file of the store (common/secretfile.c). */
#define SECRETS_TMP_PREFIX ".tmp-"
#define SECRETS_TMP_STALE 3600 /* seconds after which a leftover tmp file goes */

/* Root, or the caller when it is not root (tests). */
bool secrets_owner_ok(uid_t uid);
/* A directory or regular file we may trust: owner, no group/other bits,
 * and for files 1..max_links names.  -EPERM with the fix in the message. */
int secrets_check_trust(const struct stat *st, bool dir, unsigned max_links,
			const char *path, struct accord_err *err);
/* fstat() of fd, then secrets_check_trust(). */
int secrets_fd_trusted(int fd, bool dir, unsigned max_links, const char *path,
		       struct stat *st, struct accord_err *err);
/* An open() errno of a path we refuse to follow: never -EACCES (a wrong
 * password) nor -ENOENT (nothing stored): -EPERM for what we may not or
 * will not open, -EIO (or the resource errno) for the rest. */
int secrets_open_error(int e, const char *path, struct accord_err *err);
/* ".tmp-PID-RANDOM" into buf; -ENAMETOOLONG if it does not fit. */
int secrets_tmp_name(char *buf, size_t len);
/* Removes temporary files a crash or a kill left in dir_fd (older than
 * SECRETS_TMP_STALE: a younger one may be another process's replacement
 * in progress), aged by mtime, or by ctime where files carry another
 * meaning in their mtime (a replay entry's is its expiry).  Best effort. */
void secrets_sweep_tmp(int dir_fd, bool by_ctime);
/* CLOCK_MONOTONIC in milliseconds, for lock waits. */
int64_t secrets_mono_ms(void);

#endif
