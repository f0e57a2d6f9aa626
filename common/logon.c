/* SPDX-License-Identifier: MIT */
/*
 * The secrets store: see include/accord/logon.h.
 *
 * Every file is reached with openat() from directory descriptors that
 * were opened without following links and checked once (owner, mode), and
 * every file is checked again on its own descriptor, so a link or a
 * rename planted between check and use cannot redirect a read or a write.
 *
 * A password file is replaced as a whole (tmp, fsync, rename, fsync dir).
 * A logon record is one fixed-size block rewritten in place under an
 * fcntl write lock on the record itself: the lock is what makes counting
 * exact across processes and, on NFS, across hosts; the checksum is what
 * lets a reader that takes no lock notice a torn read.
 */
#include <accord/logon.h>
#include <accord/state.h>

#include <crypt.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"

struct accord_secrets {
	int dir_fd;       /* <registry>/secrets */
	int pw_fd;        /* .../password */
	int logon_fd;     /* .../logon */
	char path[PATH_MAX];
};

#define SECRET_MAGIC "accord-secret 1 "
#define SECRET_FILE_MAX 1024

/*
 * The logon record, 64 bytes, little-endian:
 *   0 magic "ACCLOGON"   8 u32 version (1)   12 u32 uid
 *  16 i64 created       24 u32 failures      28 u32 revoked
 *  32 i64 last_success  40 i64 last_failure  48 i64 revoked_at
 *  56 u64 accord_checksum of bytes [0, 56)
 */
#define LOGON_MAGIC "ACCLOGON"
#define LOGON_VERSION 1u
#define LOGON_SIZE 64
#define DAY 86400

/* A valid yescrypt setting of the cost crypt_gensalt_ra("$y$", 0) picks
 * (j9T), for the dummy verify. */
static const char dummy_setting[] = "$y$j9T$TyPyj6Eak7Yk3ziyFWCQ11";

/* ---- trust -------------------------------------------------------------- */

static bool owner_ok(uid_t uid)
{
	/* root's files; the caller's own only when the caller is not root
	 * (tests): geteuid() is 0 for root, so one comparison covers both */
	return uid == 0 || uid == geteuid();
}

static int check_trust(const struct stat *st, bool dir, const char *path,
		       struct accord_err *err)
{
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return accord_err_set(err, -EPERM, "refusing %s: not a %s", path,
				      dir ? "directory" : "regular file");
	if (!owner_ok(st->st_uid))
		return accord_err_set(err, -EPERM,
				      "refusing %s: owned by uid %u, not by root (chown root %s)",
				      path, (unsigned)st->st_uid, path);
	if (st->st_mode & 077)
		return accord_err_set(err, -EPERM,
				      "refusing %s: mode %04o gives group or others access "
				      "(chmod go= %s)",
				      path, (unsigned)(st->st_mode & 07777), path);
	return 0;
}

/* open errors of a path we refuse to follow */
static int open_error(int e, const char *path, struct accord_err *err)
{
	if (e == ELOOP || e == ENOTDIR)
		return accord_err_set(err, -EPERM,
				      "refusing %s: a symbolic link or not a directory", path);
	return accord_err_set(err, -e, "cannot open %s: %s", path, strerror(e));
}

static int open_dir(int parent, const char *name, const char *path, bool create,
		    struct accord_err *err)
{
	struct stat st;
	bool made = false;
	int fd, r;

	for (;;) {
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || !create || made)
			break;
		if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
			return accord_err_set(err, -errno, "cannot create %s: %s", path,
					      strerror(errno));
		made = true;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return accord_err_set(err, -ENOENT, "%s does not exist", path);
		return open_error(errno, path, err);
	}
	/* what we made is 0700 whatever the umask; what we found is checked */
	if (made && fchmod(fd, 0700) < 0) {
		r = accord_err_set(err, -errno, "cannot chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = accord_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	r = check_trust(&st, true, path, err);
	if (r < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return r;
}

int accord_secrets_open(const char *registry_dir, bool create,
			struct accord_secrets **out, struct accord_err *err)
{
	struct accord_secrets *s;
	char sub[PATH_MAX + 16];
	int reg_fd, r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return accord_err_set(err, -ENOMEM, "out of memory");
	s->dir_fd = s->pw_fd = s->logon_fd = -1;
	if (snprintf(s->path, sizeof(s->path), "%s/secrets", registry_dir) >=
	    (int)sizeof(s->path)) {
		r = accord_err_set(err, -ENAMETOOLONG, "registry path %s is too long",
				   registry_dir);
		goto fail;
	}
	reg_fd = open(registry_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (reg_fd < 0) {
		r = accord_err_set(err, -errno, "cannot open the registry %s: %s",
				   registry_dir, strerror(errno));
		goto fail;
	}
	r = open_dir(reg_fd, "secrets", s->path, create, err);
	close(reg_fd);
	if (r < 0)
		goto fail;
	s->dir_fd = r;
	snprintf(sub, sizeof(sub), "%s/password", s->path);
	r = open_dir(s->dir_fd, "password", sub, create, err);
	if (r < 0)
		goto fail;
	s->pw_fd = r;
	snprintf(sub, sizeof(sub), "%s/logon", s->path);
	r = open_dir(s->dir_fd, "logon", sub, create, err);
	if (r < 0)
		goto fail;
	s->logon_fd = r;
	*out = s;
	return 0;
fail:
	accord_secrets_close(s);
	return r;
}

void accord_secrets_close(struct accord_secrets *s)
{
	if (!s)
		return;
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->pw_fd >= 0)
		close(s->pw_fd);
	if (s->logon_fd >= 0)
		close(s->logon_fd);
	free(s);
}

static int check_profile_name(const char *name, struct accord_err *err)
{
	if (!name)
		return accord_err_set(err, -EINVAL, "no profile name");
	return accord_check_name("profile name", name, err);
}

/* ---- passwords ---------------------------------------------------------- */

static bool ct_equal(const char *a, const char *b, size_t n)
{
	volatile unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

void accord_secret_dummy_verify(const char *pw)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));

	if (!cd)
		return;
	crypt_rn(pw ? pw : "", dummy_setting, cd, sizeof(*cd));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
}

static int parse_i64(const char **p, int64_t *out)
{
	const char *s = *p;
	bool neg = false;
	uint64_t v = 0;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	*p = s;
	return 0;
}

/*
 * Reads the hash of p into hash[CRYPT_OUTPUT_SIZE]: 0, -ENOENT (none, or
 * one of an earlier profile), -EBADMSG, -EPERM.
 */
static int load_secret(struct accord_secrets *s, const struct accord_profile_ref *p,
		       char *hash, struct accord_err *err)
{
	char path[PATH_MAX + 64], buf[SECRET_FILE_MAX + 1];
	const char *q;
	struct stat st;
	int64_t uid, created;
	ssize_t n;
	size_t hlen;
	int fd, r;

	snprintf(path, sizeof(path), "%s/password/%s", s->path, p->name);
	fd = openat(s->pw_fd, p->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return accord_err_set(err, -ENOENT, "no password is set for %s",
					      p->name);
		return open_error(errno, path, err);
	}
	if (fstat(fd, &st) < 0) {
		r = accord_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	r = check_trust(&st, false, path, err);
	if (r < 0)
		goto out;
	do
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = accord_err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	if ((size_t)n >= sizeof(buf) - 1 || memchr(buf, '\0', (size_t)n) ||
	    strncmp(buf, SECRET_MAGIC, strlen(SECRET_MAGIC)))
		goto bad;
	q = buf + strlen(SECRET_MAGIC);
	if (*q == '-' || parse_i64(&q, &uid) < 0 || uid > UINT32_MAX || *q++ != ' ' ||
	    parse_i64(&q, &created) < 0 || *q++ != ' ' || *q != '$')
		goto bad;
	hlen = strcspn(q, " \n");
	if (hlen >= CRYPT_OUTPUT_SIZE || strcmp(q + hlen, "\n"))
		goto bad;
	if ((uint32_t)uid != p->uid || created != p->created) {
		r = accord_err_set(err, -ENOENT,
				   "no password is set for %s (the stored one belongs to an "
				   "earlier profile of that name)", p->name);
		goto out;
	}
	memcpy(hash, q, hlen);
	hash[hlen] = '\0';
	r = 0;
	goto out;
bad:
	r = accord_err_set(err, -EBADMSG,
			   "password file %s is damaged; set the password again", path);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

int accord_secret_verify(struct accord_secrets *s,
			 const struct accord_profile_ref *p, const char *pw,
			 struct accord_err *err)
{
	char hash[CRYPT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	const char *out;
	size_t n;
	int r;

	r = check_profile_name(p->name, err);
	if (r == 0 && !pw)
		r = accord_err_set(err, -EINVAL, "no password given");
	if (r == 0)
		r = load_secret(s, p, hash, err);
	if (r < 0) {
		/* every answer costs one hash */
		accord_secret_dummy_verify(pw);
		goto out;
	}
	cd = calloc(1, sizeof(*cd));
	if (!cd) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	out = crypt_rn(pw, hash, cd, sizeof(*cd));
	n = strlen(hash);
	if (!out || out[0] == '*') {
		r = accord_err_set(err, -EBADMSG,
				   "password file %s/password/%s holds a hash this system "
				   "cannot compute; set the password again", s->path, p->name);
		goto out;
	}
	if (strlen(out) == n && ct_equal(out, hash, n))
		r = 0;
	else
		r = accord_err_set(err, -EACCES, "wrong password for %s", p->name);
out:
	if (cd) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	explicit_bzero(hash, sizeof(hash));
	return r;
}

static int tmp_name(char *buf, size_t len)
{
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)time(NULL) ^ (uint64_t)clock();
	/* profile names never start with '.' */
	return snprintf(buf, len, ".tmp-%ld-%016llx", (long)getpid(),
			(unsigned long long)rnd) >= (int)len ? -ENAMETOOLONG : 0;
}

static int write_all_fd(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int accord_secret_set(struct accord_secrets *s,
		      const struct accord_profile_ref *p, const char *pw,
		      struct accord_err *err)
{
	char path[PATH_MAX + 64], tmp[64], line[CRYPT_OUTPUT_SIZE + 64];
	struct crypt_data *cd = NULL;
	char *setting = NULL;
	const char *out;
	int fd = -1, r, len;

	r = check_profile_name(p->name, err);
	if (r < 0)
		return r;
	if (!pw)
		return accord_err_set(err, -EINVAL, "no password given");
	snprintf(path, sizeof(path), "%s/password/%s", s->path, p->name);
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (!setting)
		return accord_err_set(err, errno ? -errno : -ENOMEM,
				      "cannot make a yescrypt salt: %s", strerror(errno));
	cd = calloc(1, sizeof(*cd));
	if (!cd) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	out = crypt_rn(pw, setting, cd, sizeof(*cd));
	if (!out || out[0] == '*') {
		r = accord_err_set(err, -EINVAL, "cannot hash the password with yescrypt");
		goto out;
	}
	len = snprintf(line, sizeof(line), SECRET_MAGIC "%u %lld %s\n", (unsigned)p->uid,
		       (long long)p->created, out);
	if (len < 0 || len >= (int)sizeof(line)) {
		r = accord_err_set(err, -EINVAL, "the password hash is too long");
		goto out;
	}
	r = tmp_name(tmp, sizeof(tmp));
	if (r < 0) {
		r = accord_err_set(err, r, "cannot name a temporary file");
		goto out;
	}
	fd = openat(s->pw_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = accord_err_set(err, -errno, "cannot create a file in %s/password: %s",
				   s->path, strerror(errno));
		goto out;
	}
	r = write_all_fd(fd, line, (size_t)len);
	if (r == 0 && fchmod(fd, 0600) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0 && renameat(s->pw_fd, tmp, s->pw_fd, p->name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(s->pw_fd, tmp, 0);
		r = accord_err_set(err, r, "cannot write %s: %s", path, strerror(-r));
		goto out;
	}
	if (fsync(s->pw_fd) < 0 && errno != EINVAL)
		r = accord_err_set(err, -errno, "cannot sync %s/password: %s", s->path,
				   strerror(errno));
out:
	explicit_bzero(line, sizeof(line));
	if (cd) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	free(setting);
	return r;
}

static int remove_file(int dir_fd, const char *dir, const char *name,
		       struct accord_err *err)
{
	if (unlinkat(dir_fd, name, 0) < 0) {
		if (errno == ENOENT)
			return 0;
		return accord_err_set(err, -errno, "cannot remove %s/%s: %s", dir, name,
				      strerror(errno));
	}
	if (fsync(dir_fd) < 0 && errno != EINVAL)
		return accord_err_set(err, -errno, "cannot sync %s: %s", dir,
				      strerror(errno));
	return 0;
}

int accord_secret_clear(struct accord_secrets *s, const char *name,
			struct accord_err *err)
{
	char dir[PATH_MAX + 16];
	int r = check_profile_name(name, err);

	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/password", s->path);
	return remove_file(s->pw_fd, dir, name, err);
}

int accord_secrets_forget(struct accord_secrets *s, const char *name,
			  struct accord_err *err)
{
	char dir[PATH_MAX + 16];
	int r = check_profile_name(name, err);

	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/password", s->path);
	r = remove_file(s->pw_fd, dir, name, err);
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/logon", s->path);
	return remove_file(s->logon_fd, dir, name, err);
}

/* ---- logon records ------------------------------------------------------ */

static void put32(unsigned char *b, uint32_t v)
{
	v = htole32(v);
	memcpy(b, &v, 4);
}

static void put64(unsigned char *b, uint64_t v)
{
	v = htole64(v);
	memcpy(b, &v, 8);
}

static uint32_t get32(const unsigned char *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return le32toh(v);
}

static uint64_t get64(const unsigned char *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return le64toh(v);
}

static void rec_encode(unsigned char *b, const struct accord_profile_ref *p,
		       const struct accord_logon_rec *r)
{
	memcpy(b, LOGON_MAGIC, 8);
	put32(b + 8, LOGON_VERSION);
	put32(b + 12, p->uid);
	put64(b + 16, (uint64_t)p->created);
	put32(b + 24, r->failures);
	put32(b + 28, r->revoked);
	put64(b + 32, (uint64_t)r->last_success);
	put64(b + 40, (uint64_t)r->last_failure);
	put64(b + 48, (uint64_t)r->revoked_at);
	put64(b + 56, accord_checksum(b, 56));
}

/* 0 (with *r all zero when the record belongs to another profile), or
 * -EBADMSG. */
static int rec_decode(const unsigned char *b, size_t n,
		      const struct accord_profile_ref *p, struct accord_logon_rec *r)
{
	memset(r, 0, sizeof(*r));
	if (n == 0)
		return 0;  /* created, not written yet */
	if (n != LOGON_SIZE || memcmp(b, LOGON_MAGIC, 8) || get32(b + 8) != LOGON_VERSION ||
	    get64(b + 56) != accord_checksum(b, 56) ||
	    get32(b + 28) > ACCORD_LOGON_REVOKED_INACTIVE)
		return -EBADMSG;
	if (get32(b + 12) != p->uid || (int64_t)get64(b + 16) != p->created)
		return 0;  /* an earlier profile of the same name */
	r->failures = get32(b + 24);
	r->revoked = get32(b + 28);
	r->last_success = (int64_t)get64(b + 32);
	r->last_failure = (int64_t)get64(b + 40);
	r->revoked_at = (int64_t)get64(b + 48);
	return 0;
}

static int damaged(const char *path, const char *name, struct accord_err *err)
{
	return accord_err_set(err, -EBADMSG,
			      "logon record %s is damaged; accordctl user resume %s resets it",
			      path, name);
}

/* Reads up to LOGON_SIZE + 1 bytes at 0: a longer file is damaged. */
static ssize_t read_block(int fd, unsigned char *b)
{
	ssize_t n;

	do
		n = pread(fd, b, LOGON_SIZE + 1, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int accord_logon_read(struct accord_secrets *s,
		      const struct accord_profile_ref *p,
		      struct accord_logon_rec *out, struct accord_err *err)
{
	char path[PATH_MAX + 64];
	unsigned char b[LOGON_SIZE + 1];
	struct stat st;
	ssize_t n;
	int fd, r, attempt;

	memset(out, 0, sizeof(*out));
	r = check_profile_name(p->name, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/logon/%s", s->path, p->name);
	fd = openat(s->logon_fd, p->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return open_error(errno, path, err);
	}
	if (fstat(fd, &st) < 0) {
		r = accord_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	r = check_trust(&st, false, path, err);
	if (r < 0)
		goto out;
	for (attempt = 0;; attempt++) {
		n = read_block(fd, b);
		if (n < 0) {
			r = accord_err_set(err, (int)n, "cannot read %s: %s", path,
					   strerror((int)-n));
			goto out;
		}
		if (rec_decode(b, (size_t)n, p, out) == 0)
			break;
		if (attempt == 1) {
			memset(out, 0, sizeof(*out));
			r = damaged(path, p->name, err);
			goto out;
		}
		/* a writer may be half-way through its pwrite: once more,
		 * a moment later */
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
out:
	close(fd);
	return r;
}

enum logon_op {
	OP_FAILURE,
	OP_SUCCESS,
	OP_TOUCH,
	OP_REVOKE,
	OP_RESET,
};

/*
 * Open (creating), check, lock, read, change, write back, fsync.  The lock
 * goes away with the descriptor.  Only OP_RESET overwrites a damaged
 * record.
 */
static int logon_update(struct accord_secrets *s, const struct accord_profile_ref *p,
			enum logon_op op, unsigned arg, int64_t now,
			struct accord_logon_rec *after, struct accord_err *err)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX + 64];
	unsigned char b[LOGON_SIZE + 1];
	struct accord_logon_rec rec;
	struct stat st;
	bool write_it = true;
	ssize_t n;
	int fd, r;

	r = check_profile_name(p->name, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/logon/%s", s->path, p->name);
	fd = openat(s->logon_fd, p->name,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return open_error(errno, path, err);
	if (fstat(fd, &st) < 0) {
		r = accord_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	r = check_trust(&st, false, path, err);
	if (r < 0)
		goto out;
	/* a new file has 0600 minus the umask: give the owner back rw */
	if ((st.st_mode & 0777) != 0600 && fchmod(fd, 0600) < 0) {
		r = accord_err_set(err, -errno, "cannot chmod %s: %s", path, strerror(errno));
		goto out;
	}
	while (fcntl(fd, F_SETLKW, &lk) < 0) {
		if (errno != EINTR) {
			r = accord_err_set(err, -errno, "cannot lock %s: %s", path,
					   strerror(errno));
			goto out;
		}
	}
	n = read_block(fd, b);
	if (n < 0) {
		r = accord_err_set(err, (int)n, "cannot read %s: %s", path, strerror((int)-n));
		goto out;
	}
	if (rec_decode(b, (size_t)n, p, &rec) < 0) {
		if (op != OP_RESET) {
			r = damaged(path, p->name, err);
			goto out;
		}
		memset(&rec, 0, sizeof(rec));
	}
	switch (op) {
	case OP_FAILURE:
		if (rec.failures < UINT32_MAX)
			rec.failures++;
		rec.last_failure = now;
		if (arg > 0 && rec.failures >= arg &&
		    rec.revoked == ACCORD_LOGON_NOT_REVOKED) {
			rec.revoked = ACCORD_LOGON_REVOKED_FAILURES;
			rec.revoked_at = now;
		}
		break;
	case OP_SUCCESS:
		rec.failures = 0;
		rec.last_success = now;
		break;
	case OP_TOUCH:
		if (rec.last_success > now - DAY)
			write_it = false;
		else
			rec.last_success = now;
		break;
	case OP_REVOKE:
		if (rec.revoked != ACCORD_LOGON_NOT_REVOKED) {
			write_it = false;
		} else {
			rec.revoked = arg;
			rec.revoked_at = now;
		}
		break;
	case OP_RESET:
		rec.failures = 0;
		rec.revoked = ACCORD_LOGON_NOT_REVOKED;
		rec.revoked_at = 0;
		rec.last_success = now;
		break;
	}
	if (write_it) {
		unsigned char w[LOGON_SIZE];
		size_t done = 0;

		rec_encode(w, p, &rec);
		while (done < LOGON_SIZE) {
			ssize_t m = pwrite(fd, w + done, LOGON_SIZE - done, (off_t)done);

			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0) {
				r = accord_err_set(err, m < 0 ? -errno : -EIO,
						   "cannot write %s: %s", path,
						   m < 0 ? strerror(errno) : "short write");
				goto out;
			}
			done += (size_t)m;
		}
		if (n > LOGON_SIZE && ftruncate(fd, LOGON_SIZE) < 0) {
			r = accord_err_set(err, -errno, "cannot truncate %s: %s", path,
					   strerror(errno));
			goto out;
		}
		if (fsync(fd) < 0) {
			r = accord_err_set(err, -errno, "cannot sync %s: %s", path,
					   strerror(errno));
			goto out;
		}
		/* a record this call created: make its name durable too */
		if (n == 0 && fsync(s->logon_fd) < 0 && errno != EINVAL) {
			r = accord_err_set(err, -errno, "cannot sync %s/logon: %s", s->path,
					   strerror(errno));
			goto out;
		}
	}
	if (after)
		*after = rec;
out:
	close(fd);
	return r;
}

int accord_logon_failure(struct accord_secrets *s,
			 const struct accord_profile_ref *p,
			 unsigned revoke_after, int64_t now,
			 struct accord_logon_rec *after,
			 struct accord_err *err)
{
	return logon_update(s, p, OP_FAILURE, revoke_after, now, after, err);
}

int accord_logon_success(struct accord_secrets *s,
			 const struct accord_profile_ref *p, int64_t now,
			 struct accord_err *err)
{
	return logon_update(s, p, OP_SUCCESS, 0, now, NULL, err);
}

int accord_logon_touch(struct accord_secrets *s,
		       const struct accord_profile_ref *p, int64_t now,
		       struct accord_err *err)
{
	struct accord_logon_rec rec;
	int r;

	/* the common case, recent enough: one read, no lock, no write */
	r = accord_logon_read(s, p, &rec, err);
	if (r < 0)
		return r;
	if (rec.last_success > now - DAY)
		return 0;
	return logon_update(s, p, OP_TOUCH, 0, now, NULL, err);
}

int accord_logon_revoke(struct accord_secrets *s,
			const struct accord_profile_ref *p, uint32_t why,
			int64_t now, struct accord_err *err)
{
	if (why != ACCORD_LOGON_REVOKED_FAILURES && why != ACCORD_LOGON_REVOKED_INACTIVE)
		return accord_err_set(err, -EINVAL, "unknown revoke reason %u", why);
	return logon_update(s, p, OP_REVOKE, why, now, NULL, err);
}

int accord_logon_reset(struct accord_secrets *s,
		       const struct accord_profile_ref *p, int64_t now,
		       struct accord_err *err)
{
	return logon_update(s, p, OP_RESET, 0, now, NULL, err);
}
