/* SPDX-License-Identifier: MIT */
/*
 * What every file of the secrets store goes through, whoever keeps it
 * there (logon.c: passwords and logon records; ptstore.c: PassTicket
 * keys, permissions, the replay cache): the trust check, the mapping of
 * open errors, temporary names and their sweep.  See secrets_dir.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "secrets_dir.h"

bool secrets_owner_ok(uid_t uid)
{
	/* root's files; the caller's own only when the caller is not root
	 * (tests): geteuid() is 0 for root, so one comparison covers both */
	return uid == 0 || uid == geteuid();
}

int secrets_check_trust(const struct stat *st, bool dir, unsigned max_links,
			const char *path, struct accord_err *err)
{
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return accord_err_set(err, -EPERM, "refusing %s: not a %s", path,
				      dir ? "directory" : "regular file");
	if (!secrets_owner_ok(st->st_uid))
		return accord_err_set(err, -EPERM,
				      "refusing %s: owned by uid %u, not by root (chown root %s)",
				      path, (unsigned)st->st_uid, path);
	if (st->st_mode & 077)
		return accord_err_set(err, -EPERM,
				      "refusing %s: mode %04o gives group or others access "
				      "(chmod go= %s)",
				      path, (unsigned)(st->st_mode & 07777), path);
	/* a second name would be a second way in (or a file planted by
	 * linking one of ours) */
	if (!dir && (st->st_nlink < 1 || st->st_nlink > max_links))
		return accord_err_set(err, -EPERM,
				      "refusing %s: it has %lu links, not 1 (remove the other "
				      "names)", path, (unsigned long)st->st_nlink);
	return 0;
}

int secrets_fd_trusted(int fd, bool dir, unsigned max_links, const char *path,
		       struct stat *st, struct accord_err *err)
{
	if (fstat(fd, st) < 0)
		return accord_err_set(err, -EIO, "cannot stat %s: %s", path, strerror(errno));
	return secrets_check_trust(st, dir, max_links, path, err);
}

int secrets_open_error(int e, const char *path, struct accord_err *err)
{
	if (e == ELOOP || e == ENOTDIR)
		return accord_err_set(err, -EPERM,
				      "refusing %s: a symbolic link or not a directory", path);
	if (e == EACCES || e == EPERM)
		return accord_err_set(err, -EPERM, "cannot open %s: %s", path, strerror(e));
	return accord_err_set(err, e == ENOMEM || e == EMFILE || e == ENFILE ? -e : -EIO,
			      "cannot open %s: %s", path, strerror(e));
}

int secrets_tmp_name(char *buf, size_t len)
{
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)time(NULL) ^ (uint64_t)clock() ^ ((uint64_t)getpid() << 32);
	/* profile and key names never start with '.' */
	return snprintf(buf, len, SECRETS_TMP_PREFIX "%ld-%016llx", (long)getpid(),
			(unsigned long long)rnd) >= (int)len ? -ENAMETOOLONG : 0;
}

void secrets_sweep_tmp(int dir_fd, bool by_ctime)
{
	time_t now = time(NULL);
	struct dirent *e;
	DIR *d;
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strncmp(e->d_name, SECRETS_TMP_PREFIX, strlen(SECRETS_TMP_PREFIX)))
			continue;
		if (fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (by_ctime ? st.st_ctime : st.st_mtime) < now - SECRETS_TMP_STALE)
			unlinkat(dir_fd, e->d_name, 0);
	}
	closedir(d);
}

int64_t secrets_mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
