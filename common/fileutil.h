/* SPDX-License-Identifier: MIT */
/* File helpers for atomic publication: every file the registry publishes
 * is written to a temporary name, fsynced, and then linked or renamed into
 * place, and its directory is fsynced. */
#ifndef ACCORD_FILEUTIL_H
#define ACCORD_FILEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

int fu_write_all(int fd, const void *buf, size_t len);
int fu_fsync_dir(const char *dir);
/* Writes buf to dir/.tmp-<tag>-<pid> and then publishes it at final:
 * exclusive (link, -EEXIST if final exists) or replacing (rename). */
int fu_publish(const char *dir, const char *final, const void *buf,
	       size_t len, mode_t mode, bool exclusive);
/* Reads a whole file up to max bytes (-EFBIG beyond); *out is malloc'd and
 * NUL-terminated. */
int fu_read_file(const char *path, size_t max, char **out, size_t *len);
/* The same for a file we trust: opened without following a link or
 * blocking, and only a regular file with one link that fu_trusted()
 * accepts (checked on the open file); -EPERM otherwise. */
int fu_read_trusted(const char *path, size_t max, char **out, size_t *len);
/* Creates the directory if missing (mode), fails if it is not one. */
int fu_mkdir(const char *path, mode_t mode);
/* Is the file owned by root (or the caller) and not writable by group or
 * others?  0, or -EPERM with nothing else said. */
int fu_trusted(const struct stat *st);

#endif
