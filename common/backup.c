/* SPDX-License-Identifier: MIT */
/*
 * Backups (include/accord/backup.h).
 *
 * File format, version 1:
 *
 *   header   one text line, at most ACCORD_BACKUP_HEADER_MAX bytes with its
 *            '\n', fields in this order, single spaces:
 *              accord-backup 1 uuid=UUID generation=G created=EPOCH
 *              host=HOST secrets=0|1 ptauth=0|1 sections=N
 *            (ptauth=0: the secrets store could not be read, so the
 *            PassTicket permissions are not in the backup; a diff then
 *            leaves that class out)
 *   sections N of them, each:
 *              4 bytes  tag: "SNAP" (exactly one, first), then "PASS"
 *                       (secrets/password/NAME), "PTKY" (secrets/ptkeys/
 *                       NAME), "PTAU" (secrets/ptauth/NAME); PASS and PTKY
 *                       only with secrets=1, PTAU only with ptauth=1
 *              u32 LE   name length (0 for SNAP; 1..255 otherwise: no '/',
 *                       no leading '.', printable ASCII)
 *              u64 LE   data length (SNAP: the snapshot file, at most
 *                       ACCORD_BACKUP_SNAP_MAX; a secret: at most
 *                       ACCORD_BACKUP_SECRET_MAX)
 *              name, data
 *              32 bytes SHA-256 of the section's bytes from its tag to the
 *                       end of its data
 *   trailer  48 bytes: "ACCBKEND", u64 LE offset of the trailer (the number
 *            of bytes before it), SHA-256 of all the bytes before it.
 *            Nothing may follow.
 *
 * The snapshot is the immutable snap/gen-G file that CURRENT named, byte
 * for byte (deep-verified before it is written and after it is read back,
 * and its generation and UUID must be the header's).  Secrets are the
 * store's files as they are, read with the store's own trust checks
 * (common/secretfile.c), at the time of the backup: they have no
 * generation.  A backup with secrets is created 0600 and must pass the same
 * trust checks to be read (owner root, no group/other bits, one link).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <accord/backup.h>
#include <accord/logon.h>
#include <accord/ptstore.h>

#include "secrets_dir.h"
#include "store.h"

#define TRAILER_MAGIC "ACCBKEND"
#define TRAILER_LEN 48u
#define SECTION_HEAD 16u
#define SECTION_SUM 32u
#define SNAP_RETRIES 20

struct sec {
	char tag[5];
	char *name;                 /* points into the file buffer copy */
	const unsigned char *data;
	size_t len;
};

struct accord_backup {
	struct accord_backup_info info;
	unsigned char *file;        /* the whole file (secrets wiped on close) */
	size_t file_len;
	unsigned char *snapbuf;     /* the snapshot, 8-aligned copy */
	struct accord_snapshot snap;
	struct sec *secs;           /* sections after SNAP */
	size_t nsecs;
	char (*names)[ACCORD_BACKUP_NAME_MAX + 1];
	struct stat st;             /* of the file as opened */
};

static const char *tag_kind(const char *tag)
{
	if (!memcmp(tag, "PASS", 4))
		return "password";
	if (!memcmp(tag, "PTKY", 4))
		return "ptkey";
	if (!memcmp(tag, "PTAU", 4))
		return "ptauth";
	if (!memcmp(tag, "SNAP", 4))
		return "snapshot";
	return NULL;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A secret's file name as the store writes them (and as a restore may
 * create them): printable, no '/', no leading '.', bounded. */
static bool secret_name_ok(const char *n, size_t len)
{
	size_t i;

	if (len == 0 || len > ACCORD_BACKUP_NAME_MAX || n[0] == '.')
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)n[i] <= 0x20 || (unsigned char)n[i] >= 0x7f || n[i] == '/')
			return false;
	return true;
}

/* ---- writing -------------------------------------------------------------- */

struct writer {
	int fd;
	EVP_MD_CTX *all, *sec;
	const char *path;
	unsigned nsections;
	struct accord_err *err;
};

static int w_raw(struct writer *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t m = write(w->fd, p + done, len - done);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			return accord_err_set(w->err, -errno, "cannot write %s: %s", w->path,
					      strerror(errno));
		done += (size_t)m;
	}
	return 0;
}

static int w_section(struct writer *w, const char *tag, const char *name,
		     const unsigned char *data, size_t len)
{
	unsigned char head[SECTION_HEAD], md[32];
	size_t nlen = name ? strlen(name) : 0;
	unsigned mdlen = 0;
	int r;

	memcpy(head, tag, 4);
	put32(head + 4, (uint32_t)nlen);
	put64(head + 8, (uint64_t)len);
	if (EVP_DigestInit_ex(w->sec, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(w->sec, head, sizeof(head)) != 1 ||
	    (nlen && EVP_DigestUpdate(w->sec, name, nlen) != 1) ||
	    (len && EVP_DigestUpdate(w->sec, data, len) != 1) ||
	    EVP_DigestFinal_ex(w->sec, md, &mdlen) != 1)
		return accord_err_set(w->err, -ENOMEM, "SHA-256 failed");
	if ((r = w_raw(w, head, sizeof(head))) < 0 || (nlen && (r = w_raw(w, name, nlen)) < 0) ||
	    (len && (r = w_raw(w, data, len)) < 0) || (r = w_raw(w, md, 32)) < 0)
		return r;
	w->nsections++;
	return 0;
}

/* One file of the secrets store, read with the store's checks. */
static int read_secret(int dfd, const char *dpath, const char *name, unsigned char **out,
		       size_t *len, struct accord_err *err)
{
	char path[PATH_MAX + 300];
	unsigned char *buf = NULL;
	struct stat st;
	size_t n = 0;
	int fd, r;

	*out = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", dpath, name);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : secrets_open_error(errno, path, err);
	r = secrets_fd_trusted(fd, false, 1, path, &st, err);
	if (r < 0)
		goto out;
	if (st.st_size > (off_t)ACCORD_BACKUP_SECRET_MAX) {
		r = accord_err_set(err, -EFBIG, "%s is larger than %u bytes", path,
				   ACCORD_BACKUP_SECRET_MAX);
		goto out;
	}
	buf = malloc(ACCORD_BACKUP_SECRET_MAX + 1);
	if (!buf) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t m = read(fd, buf + n, ACCORD_BACKUP_SECRET_MAX + 1 - n);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			r = accord_err_set(err, -EIO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (m == 0)
			break;
		n += (size_t)m;
		if (n > ACCORD_BACKUP_SECRET_MAX) {
			r = accord_err_set(err, -EFBIG, "%s is larger than %u bytes", path,
					   ACCORD_BACKUP_SECRET_MAX);
			goto out;
		}
	}
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (buf) {
		explicit_bzero(buf, ACCORD_BACKUP_SECRET_MAX + 1);
		free(buf);
	}
	close(fd);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every file of secrets/<sub> (sorted, temporary and dot files skipped) as
 * sections of tag.  A missing subdirectory holds nothing.
 */
static int w_secret_dir(struct writer *w, struct accord_secrets *s, const char *sub,
			const char *tag, unsigned *count)
{
	const char *spath;
	int sfd = accord_secrets_dirfd(s, &spath);
	char dpath[PATH_MAX + 32], **names = NULL;
	size_t n = 0, cap = 0, i;
	struct stat st;
	DIR *dp = NULL;
	int fd, r = 0;

	snprintf(dpath, sizeof(dpath), "%s/%s", spath, sub);
	fd = openat(sfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : secrets_open_error(errno, dpath, w->err);
	r = secrets_fd_trusted(fd, true, 1, dpath, &st, w->err);
	if (r < 0) {
		close(fd);
		return r;
	}
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return accord_err_set(w->err, -ENOMEM, "out of memory");
	}
	for (;;) {
		struct dirent *e;

		errno = 0;
		e = readdir(dp);
		if (!e) {
			if (errno)
				r = accord_err_set(w->err, -EIO, "cannot read %s: %s", dpath,
						   strerror(errno));
			break;
		}
		if (e->d_name[0] == '.')
			continue; /* ".", "..", .lock, .tmp-* */
		if (!secret_name_ok(e->d_name, strlen(e->d_name))) {
			r = accord_err_set(w->err, -EBADMSG, "%s holds a file with a name no "
					   "accord secret has: '%s'", dpath, e->d_name);
			break;
		}
		if (n == ACCORD_BACKUP_SECTIONS_MAX / 4) {
			r = accord_err_set(w->err, -E2BIG, "%s holds more than %u files", dpath,
					   ACCORD_BACKUP_SECTIONS_MAX / 4);
			break;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nv = realloc(names, nc * sizeof(*nv));

			if (!nv) {
				r = accord_err_set(w->err, -ENOMEM, "out of memory");
				break;
			}
			names = nv;
			cap = nc;
		}
		if (!(names[n] = strdup(e->d_name))) {
			r = accord_err_set(w->err, -ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	if (r == 0 && n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; r == 0 && i < n; i++) {
		unsigned char *data;
		size_t len;

		r = read_secret(dirfd(dp), dpath, names[i], &data, &len, w->err);
		if (r == -ENOENT) { /* removed since listed: not there now */
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		r = w_section(w, tag, names[i], data, len);
		explicit_bzero(data, ACCORD_BACKUP_SECRET_MAX + 1);
		free(data);
		if (r == 0)
			(*count)++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dp);
	return r;
}

/* The current generation, whole: CURRENT read, its file mapped and checked
 * against it (the store does), deep-verified.  A file swept away between
 * the two reads (a writer published, snapshot_grace passed) means reading
 * CURRENT again. */
static int current_snapshot(struct accord_registry *reg, struct accord_snapshot *snap,
			    struct accord_err *err)
{
	accord_snap_why why = "";
	int r = -ENOENT, i;

	for (i = 0; i < SNAP_RETRIES && r == -ENOENT; i++)
		r = accord_registry_current(reg, false, snap, err);
	if (r < 0)
		return r;
	r = accord_snapshot_verify(snap, &why);
	if (r < 0) {
		accord_err_set(err, r, "the registry's snapshot of generation %" PRIu64
			       " fails verification: %s; no backup written", snap->generation,
			       why);
		accord_snapshot_unmap(snap);
	}
	return r;
}

static void host_name(char *out, size_t len)
{
	char h[256] = "";
	size_t i;

	if (gethostname(h, sizeof(h) - 1) < 0 || !h[0])
		snprintf(h, sizeof(h), "unknown");
	h[sizeof(h) - 1] = '\0';
	for (i = 0; h[i]; i++)
		if ((unsigned char)h[i] <= 0x20 || (unsigned char)h[i] >= 0x7f || h[i] == '=')
			h[i] = '_';
	snprintf(out, len, "%s", h);
}

/* The tmp file next to path: ".NAME.tmp-XXXXXX". */
static int tmp_beside(const char *path, char *tmp, size_t len, char *dir, size_t dlen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int n;

	if (!base[0])
		return -EISDIR;
	if (slash)
		n = snprintf(dir, dlen, "%.*s", (int)(slash - path + (slash == path)), path);
	else
		n = snprintf(dir, dlen, ".");
	if (n < 0 || (size_t)n >= dlen)
		return -ENAMETOOLONG;
	n = snprintf(tmp, len, "%s/.%s.tmp-XXXXXX", dir, base);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int accord_backup_write(struct accord_registry *reg, const char *path,
			bool include_secrets, struct accord_backup_info *info,
			struct accord_err *err)
{
	struct accord_backup_info in = { 0 };
	struct accord_snapshot snap = { 0 };
	struct accord_secrets *sec = NULL;
	struct writer w = { .fd = -1, .path = path, .err = err };
	char tmp[PATH_MAX + 64], dir[PATH_MAX], header[ACCORD_BACKUP_HEADER_MAX + 1];
	unsigned char trailer[TRAILER_LEN], md[32];
	unsigned mdlen = 0;
	struct stat st;
	bool have_snap = false, tmp_made = false;
	off_t header_at;
	int r, n;

	if (lstat(path, &st) == 0)
		return accord_err_set(err, -EEXIST, "%s already exists; a backup never "
				      "replaces a file", path);
	r = tmp_beside(path, tmp, sizeof(tmp), dir, sizeof(dir));
	if (r < 0)
		return accord_err_set(err, r, "cannot use %s as a backup file name", path);
	/* the secrets store: needed with secrets; without, only for the
	 * PassTicket permissions, which a reader who cannot enter the store
	 * (not root) leaves out (ptauth=0 says so) */
	r = accord_secrets_open(accord_registry_path(reg), false, &sec, err);
	if (r == -ENOENT) {
		in.has_ptauth = true; /* no store: nothing permitted */
		r = 0;
	} else if (r < 0 && !include_secrets && (r == -EPERM || r == -EACCES)) {
		r = 0;
	} else if (r < 0) {
		accord_err_prefix(err, r, "cannot read the secrets store%s",
				  include_secrets ? " (--include-secrets needs root)" : "");
		goto out;
	} else {
		in.has_ptauth = true;
	}
	if (include_secrets && !sec) {
		r = accord_err_set(err, -ENOENT, "the registry has no secrets store (%s/secrets)",
				   accord_registry_path(reg));
		goto out;
	}
	r = current_snapshot(reg, &snap, err);
	if (r < 0)
		goto out;
	have_snap = true;
	accord_registry_uuid(reg, in.uuid);
	in.generation = snap.generation;
	in.created = (int64_t)time(NULL);
	host_name(in.host, sizeof(in.host));
	in.has_secrets = include_secrets;
	in.snapshot_size = snap.size;

	w.all = EVP_MD_CTX_new();
	w.sec = EVP_MD_CTX_new();
	if (!w.all || !w.sec) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	w.fd = mkostemp(tmp, O_CLOEXEC);
	if (w.fd < 0) {
		r = accord_err_set(err, errno == EACCES ? -EPERM : -errno,
				   "cannot create a file in %s: %s", dir, strerror(errno));
		goto out;
	}
	tmp_made = true;
	/* the header is written last, at offset 0, once the section count is
	 * known: its count is fixed-width, so its length is known now */
	n = snprintf(header, sizeof(header),
		     "accord-backup 1 uuid=%s generation=%" PRIu64 " created=%" PRId64
		     " host=%s secrets=%d ptauth=%d sections=%010u\n",
		     in.uuid, in.generation, in.created, in.host, in.has_secrets ? 1 : 0,
		     in.has_ptauth ? 1 : 0, 0u);
	if (n < 0 || (size_t)n >= sizeof(header)) {
		r = accord_err_set(err, -ENAMETOOLONG, "the backup header is too long");
		goto out;
	}
	header_at = (off_t)n;
	if (lseek(w.fd, header_at, SEEK_SET) != header_at) {
		r = accord_err_set(err, -errno, "cannot seek in %s: %s", tmp, strerror(errno));
		goto out;
	}
	r = w_section(&w, "SNAP", NULL, snap.base, snap.size);
	if (r == 0 && include_secrets)
		r = w_secret_dir(&w, sec, "password", "PASS", &in.npasswords);
	if (r == 0 && include_secrets)
		r = w_secret_dir(&w, sec, "ptkeys", "PTKY", &in.nptkeys);
	if (r == 0 && sec)
		r = w_secret_dir(&w, sec, "ptauth", "PTAU", &in.nptauth);
	if (r < 0)
		goto out;
	/* now the header, with the count, at offset 0; the whole-file hash is
	 * SHA-256 over header || sections, so it is computed by reading the
	 * file back (it is also the check that what reached the disk is what
	 * was meant) */
	n = snprintf(header, sizeof(header),
		     "accord-backup 1 uuid=%s generation=%" PRIu64 " created=%" PRId64
		     " host=%s secrets=%d ptauth=%d sections=%010u\n",
		     in.uuid, in.generation, in.created, in.host, in.has_secrets ? 1 : 0,
		     in.has_ptauth ? 1 : 0, w.nsections);
	if ((off_t)n != header_at || pwrite(w.fd, header, (size_t)n, 0) != n) {
		r = accord_err_set(err, -EIO, "cannot write the header of %s", tmp);
		goto out;
	}
	{
		unsigned char *buf = malloc(1 << 20);
		off_t off = 0, end = lseek(w.fd, 0, SEEK_CUR);

		if (!buf || EVP_DigestInit_ex(w.all, EVP_sha256(), NULL) != 1) {
			free(buf);
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		while (off < end) {
			size_t want = (size_t)(end - off) < (1u << 20) ? (size_t)(end - off)
								      : (1u << 20);
			ssize_t m = pread(w.fd, buf, want, off);

			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0) {
				free(buf);
				r = accord_err_set(err, -EIO, "cannot read back %s", tmp);
				goto out;
			}
			EVP_DigestUpdate(w.all, buf, (size_t)m);
			off += m;
		}
		explicit_bzero(buf, 1 << 20);
		free(buf);
		if (EVP_DigestFinal_ex(w.all, md, &mdlen) != 1) {
			r = accord_err_set(err, -ENOMEM, "SHA-256 failed");
			goto out;
		}
		memcpy(trailer, TRAILER_MAGIC, 8);
		put64(trailer + 8, (uint64_t)end);
		memcpy(trailer + 16, md, 32);
		if (pwrite(w.fd, trailer, sizeof(trailer), end) != (ssize_t)sizeof(trailer)) {
			r = accord_err_set(err, -EIO, "cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
	}
	if (fchmod(w.fd, include_secrets ? 0600 : 0644) < 0 || fsync(w.fd) < 0) {
		r = accord_err_set(err, -errno, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(w.fd) < 0) {
		w.fd = -1;
		r = accord_err_set(err, -errno, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	w.fd = -1;
	/* link() never replaces: a file made meanwhile under that name wins */
	if (link(tmp, path) < 0) {
		r = accord_err_set(err, errno == EEXIST ? -EEXIST : -errno,
				   errno == EEXIST ? "%s already exists; a backup never replaces "
				   "a file" : "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		unlink(tmp);
		tmp_made = false;
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	in.snapshot_size = snap.size;
	if (info)
		*info = in;
	r = 0;
out:
	if (w.fd >= 0)
		close(w.fd);
	if (tmp_made)
		unlink(tmp);
	EVP_MD_CTX_free(w.all);
	EVP_MD_CTX_free(w.sec);
	if (have_snap)
		accord_snapshot_unmap(&snap);
	accord_secrets_close(sec);
	return r;
}

/* ---- reading ---------------------------------------------------------------- */

/* Reads the whole file (bounded) into *out. */
static int read_file(int fd, const char *path, size_t size, unsigned char **out,
		     struct accord_err *err)
{
	unsigned char *buf = malloc(size ? size : 1);
	size_t n = 0;

	if (!buf)
		return accord_err_set(err, -ENOMEM, "out of memory reading %s", path);
	while (n < size) {
		ssize_t m = read(fd, buf + n, size - n);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			int e = errno;

			free(buf);
			return accord_err_set(err, -EIO, "cannot read %s: %s", path, strerror(e));
		}
		if (m == 0)
			break;
		n += (size_t)m;
	}
	if (n != size) {
		free(buf);
		return accord_err_set(err, -EIO, "%s changed while it was read", path);
	}
	*out = buf;
	return 0;
}

/* "key=VALUE " at *p: VALUE copied (bounded), *p after the separator. */
static int take_field(const char **p, const char *key, char *val, size_t cap, char sep)
{
	size_t kl = strlen(key), n = 0;

	if (strncmp(*p, key, kl) || (*p)[kl] != '=')
		return -EBADMSG;
	*p += kl + 1;
	while ((*p)[n] && (*p)[n] != sep && (*p)[n] != ' ' && (*p)[n] != '\n') {
		if (n + 1 >= cap)
			return -EBADMSG;
		val[n] = (*p)[n];
		n++;
	}
	if (n == 0 || (*p)[n] != sep)
		return -EBADMSG;
	val[n] = '\0';
	*p += n + 1;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EBADMSG;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EBADMSG : 0;
}

static int parse_header(const char *line, struct accord_backup_info *in, uint64_t *nsections)
{
	const char *p = line;
	char v[ACCORD_BACKUP_HEADER_MAX];
	unsigned char u[16];
	uint64_t x;

	if (strncmp(p, "accord-backup ", 14))
		return -EBADMSG;
	p += 14;
	if (strncmp(p, "1 ", 2))
		return -EPROTONOSUPPORT;
	p += 2;
	if (take_field(&p, "uuid", v, sizeof(v), ' ') || strlen(v) != 36 ||
	    accord_uuid_parse(v, u) < 0)
		return -EBADMSG;
	memcpy(in->uuid, v, 37);
	if (take_field(&p, "generation", v, sizeof(v), ' ') || parse_u64(v, &in->generation) ||
	    in->generation == 0)
		return -EBADMSG;
	if (take_field(&p, "created", v, sizeof(v), ' '))
		return -EBADMSG;
	{
		char *end;
		int64_t created;

		errno = 0;
		created = strtoll(v, &end, 10);
		if (errno || *end)
			return -EBADMSG;
		in->created = created;
	}
	if (take_field(&p, "host", in->host, sizeof(in->host), ' '))
		return -EBADMSG;
	if (take_field(&p, "secrets", v, sizeof(v), ' ') || (strcmp(v, "0") && strcmp(v, "1")))
		return -EBADMSG;
	in->has_secrets = v[0] == '1';
	if (take_field(&p, "ptauth", v, sizeof(v), ' ') || (strcmp(v, "0") && strcmp(v, "1")))
		return -EBADMSG;
	in->has_ptauth = v[0] == '1';
	if (take_field(&p, "sections", v, sizeof(v), '\n') || parse_u64(v, &x) || x == 0 ||
	    x > ACCORD_BACKUP_SECTIONS_MAX)
		return -EBADMSG;
	if (*p)
		return -EBADMSG;
	*nsections = x;
	return 0;
}

/* The sections: lengths against the file, tags, names, each checksum.
 * Fills b->secs (and the SNAP section's place). */
static int walk_sections(struct accord_backup *b, const char *path, size_t start,
			 size_t end, uint64_t nsections, const unsigned char **snap,
			 size_t *snap_len, struct accord_err *err)
{
	const unsigned char *f = b->file;
	size_t off = start;
	uint64_t i;

	b->secs = calloc((size_t)nsections, sizeof(*b->secs));
	b->names = calloc((size_t)nsections, sizeof(*b->names));
	if (!b->secs || !b->names)
		return accord_err_set(err, -ENOMEM, "out of memory");
	for (i = 0; i < nsections; i++) {
		unsigned char md[32];
		unsigned mdlen = 0;
		const char *kind;
		uint32_t nlen;
		uint64_t dlen;
		char tag[5];

		if (end - off < SECTION_HEAD)
			return accord_err_set(err, -EBADMSG, "%s is truncated: section %" PRIu64
					      " of %" PRIu64 " is missing", path, i + 1, nsections);
		memcpy(tag, f + off, 4);
		tag[4] = '\0';
		kind = tag_kind(tag);
		nlen = get32(f + off + 4);
		dlen = get64(f + off + 8);
		if (!kind || (i == 0) != !strcmp(kind, "snapshot"))
			return accord_err_set(err, -EBADMSG, "%s is damaged: section %" PRIu64
					      " has an unknown or misplaced type", path, i + 1);
		if (i == 0 ? nlen != 0 || dlen > ACCORD_BACKUP_SNAP_MAX
			   : nlen == 0 || nlen > ACCORD_BACKUP_NAME_MAX ||
				     dlen > ACCORD_BACKUP_SECRET_MAX)
			return accord_err_set(err, -EBADMSG, "%s is damaged: section %" PRIu64
					      " (%s) has impossible lengths", path, i + 1, kind);
		if ((uint64_t)(end - off - SECTION_HEAD) < (uint64_t)nlen + dlen + SECTION_SUM)
			return accord_err_set(err, -EBADMSG, "%s is truncated: section %" PRIu64
					      " (%s) runs past the end of the file", path,
					      i + 1, kind);
		if (EVP_Digest(f + off, SECTION_HEAD + nlen + (size_t)dlen, md, &mdlen,
			       EVP_sha256(), NULL) != 1)
			return accord_err_set(err, -ENOMEM, "SHA-256 failed");
		if (memcmp(md, f + off + SECTION_HEAD + nlen + dlen, 32))
			return accord_err_set(err, -EBADMSG, "%s is damaged: the checksum of "
					      "section %" PRIu64 " (%s) does not match (the file "
					      "was changed or corrupted)", path, i + 1, kind);
		if (i == 0) {
			*snap = f + off + SECTION_HEAD;
			*snap_len = (size_t)dlen;
		} else {
			struct sec *s = &b->secs[b->nsecs];
			const char *name = (const char *)f + off + SECTION_HEAD;

			if (!secret_name_ok(name, nlen))
				return accord_err_set(err, -EBADMSG, "%s is damaged: section %"
						      PRIu64 " (%s) has an invalid name", path,
						      i + 1, kind);
			if ((!b->info.has_secrets && strcmp(kind, "ptauth")) ||
			    (!b->info.has_ptauth && !strcmp(kind, "ptauth")))
				return accord_err_set(err, -EBADMSG, "%s is damaged: section %"
						      PRIu64 " (%s) where the header says there "
						      "is none", path, i + 1, kind);
			memcpy(b->names[b->nsecs], name, nlen);
			b->names[b->nsecs][nlen] = '\0';
			memcpy(s->tag, tag, 5);
			s->name = b->names[b->nsecs];
			s->data = f + off + SECTION_HEAD + nlen;
			s->len = (size_t)dlen;
			if (!strcmp(kind, "password"))
				b->info.npasswords++;
			else if (!strcmp(kind, "ptkey"))
				b->info.nptkeys++;
			else
				b->info.nptauth++;
			b->nsecs++;
		}
		off += SECTION_HEAD + nlen + (size_t)dlen + SECTION_SUM;
	}
	if (off != end)
		return accord_err_set(err, -EBADMSG, "%s is damaged: %zu bytes between the last "
				      "section and the trailer", path, end - off);
	return 0;
}

int accord_backup_open(const char *path, struct accord_backup **out,
		       struct accord_err *err)
{
	struct accord_backup *b;
	const unsigned char *snap = NULL, *nl, *t;
	size_t snap_len = 0, hlen, tend;
	uint64_t nsections = 0;
	accord_snap_why why = "";
	unsigned char md[32], uuid[16];
	unsigned mdlen = 0;
	struct stat st;
	char line[ACCORD_BACKUP_HEADER_MAX + 1];
	int fd, r;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return accord_err_set(err, -ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = accord_err_set(err, errno == EACCES ? -EPERM : errno == ELOOP ? -EPERM
				   : -errno, "cannot open the backup %s: %s", path,
				   errno == ELOOP ? "a symbolic link" : strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = accord_err_set(err, S_ISDIR(st.st_mode) ? -EISDIR : -EBADMSG,
				   "the backup %s is not a regular file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > ACCORD_BACKUP_SNAP_MAX + (uint64_t)ACCORD_BACKUP_SECTIONS_MAX *
	    (ACCORD_BACKUP_SECRET_MAX + 512)) {
		r = accord_err_set(err, -EFBIG, "the backup %s is larger than any backup", path);
		goto fail;
	}
	b->st = st;
	b->file_len = (size_t)st.st_size;
	r = read_file(fd, path, b->file_len, &b->file, err);
	if (r < 0)
		goto fail;
	/* the header line */
	nl = memchr(b->file, '\n', b->file_len < ACCORD_BACKUP_HEADER_MAX
				   ? b->file_len : ACCORD_BACKUP_HEADER_MAX);
	if (!nl || memchr(b->file, '\0', (size_t)(nl - b->file))) {
		r = accord_err_set(err, -EBADMSG, "%s is not an accord backup (no header line%s)",
				   path, b->file_len ? "" : ": the file is empty");
		goto fail;
	}
	hlen = (size_t)(nl - b->file) + 1;
	memcpy(line, b->file, hlen);
	line[hlen] = '\0';
	r = parse_header(line, &b->info, &nsections);
	if (r < 0) {
		accord_err_set(err, -EBADMSG, r == -EPROTONOSUPPORT
			       ? "%s is a backup of a format version this accordctl does not "
				 "read" : "%s is not an accord backup, or its header is damaged",
			       path);
		r = -EBADMSG;
		goto fail;
	}
	/* a backup with secrets is trusted like the secrets store's files */
	if (b->info.has_secrets) {
		r = secrets_fd_trusted(fd, false, 1, path, &st, err);
		if (r < 0)
			goto fail;
	}
	/* the trailer */
	if (b->file_len < hlen + TRAILER_LEN) {
		r = accord_err_set(err, -EBADMSG, "%s is truncated (no trailer)", path);
		goto fail;
	}
	tend = b->file_len - TRAILER_LEN;
	t = b->file + tend;
	/* sections first: their own checksums name the damaged part */
	r = walk_sections(b, path, hlen, tend, nsections, &snap, &snap_len, err);
	if (r < 0)
		goto fail;
	if (memcmp(t, TRAILER_MAGIC, 8) || get64(t + 8) != (uint64_t)tend) {
		r = accord_err_set(err, -EBADMSG, "%s is truncated or damaged: its trailer is "
				   "missing", path);
		goto fail;
	}
	if (EVP_Digest(b->file, tend, md, &mdlen, EVP_sha256(), NULL) != 1) {
		r = accord_err_set(err, -ENOMEM, "SHA-256 failed");
		goto fail;
	}
	if (memcmp(md, t + 16, 32)) {
		r = accord_err_set(err, -EBADMSG, "%s is damaged: the checksum of the file does "
				   "not match (the header or the trailer was changed)", path);
		goto fail;
	}
	/* the snapshot, in its own 8-aligned buffer, deep-verified */
	b->snapbuf = malloc(snap_len ? snap_len : 1);
	if (!b->snapbuf) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(b->snapbuf, snap, snap_len);
	if ((r = accord_snapshot_open_mem(&b->snap, b->snapbuf, snap_len, &why)) < 0 ||
	    (r = accord_snapshot_verify(&b->snap, &why)) < 0) {
		accord_err_set(err, r == -ENOMEM ? r : -EBADMSG, "the snapshot in %s is damaged: %s",
			       path, why);
		r = r == -ENOMEM ? r : -EBADMSG;
		goto fail;
	}
	accord_uuid_parse(b->info.uuid, uuid);
	if (b->snap.generation != b->info.generation || memcmp(b->snap.uuid, uuid, 16)) {
		r = accord_err_set(err, -EBADMSG, "%s is damaged: its snapshot is generation %"
				   PRIu64 " of another registry or generation than the header "
				   "names", path, b->snap.generation);
		goto fail;
	}
	b->info.snapshot_size = snap_len;
	close(fd);
	*out = b;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	accord_backup_close(b);
	return r;
}

void accord_backup_close(struct accord_backup *b)
{
	if (!b)
		return;
	if (b->file) {
		if (b->info.has_secrets)
			explicit_bzero(b->file, b->file_len);
		free(b->file);
	}
	free(b->snapbuf);
	free(b->secs);
	free(b->names);
	free(b);
}

const struct accord_backup_info *accord_backup_info(const struct accord_backup *b)
{
	return &b->info;
}

const struct accord_snapshot *accord_backup_snapshot(const struct accord_backup *b)
{
	return &b->snap;
}

int accord_backup_secret_next(const struct accord_backup *b, size_t *cursor,
			      struct accord_backup_secret *out)
{
	const struct sec *s;

	if (*cursor >= b->nsecs)
		return -ENOENT;
	s = &b->secs[(*cursor)++];
	out->kind = tag_kind(s->tag);
	out->name = s->name;
	out->data = s->data;
	out->len = s->len;
	return 0;
}

/* ---- PassTicket permissions as strings ------------------------------------------ */

struct strv {
	char **v;
	size_t n, cap;
};

static int strv_add(struct strv *sv, const char *appl, const char *kind, const char *name,
		    size_t name_len)
{
	size_t len = strlen(appl) + strlen(kind) + name_len + 3;
	char *s;

	if (sv->n == sv->cap) {
		size_t nc = sv->cap ? sv->cap * 2 : 16;
		char **nv = realloc(sv->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		sv->v = nv;
		sv->cap = nc;
	}
	s = malloc(len);
	if (!s)
		return -ENOMEM;
	snprintf(s, len, "%s:%s:%.*s", appl, kind, (int)name_len, name);
	sv->v[sv->n++] = s;
	return 0;
}

void accord_strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_finish(struct strv *sv, char ***out, size_t *n)
{
	if (!sv->v && !(sv->v = malloc(sizeof(*sv->v))))
		return -ENOMEM;
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_names);
	*out = sv->v;
	*n = sv->n;
	return 0;
}

/* One permission file's lines, "user NAME" / "group NAME" (the format
 * common/ptstore.c writes). */
static int ptauth_lines(struct strv *sv, const char *appl, const unsigned char *data,
			size_t len)
{
	const char *p = (const char *)data, *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *kind;
		size_t kl, nlen;

		if (!nl)
			return -EBADMSG;
		if ((size_t)(nl - p) > 5 && !memcmp(p, "user ", 5)) {
			kind = "user";
			kl = 5;
		} else if ((size_t)(nl - p) > 6 && !memcmp(p, "group ", 6)) {
			kind = "group";
			kl = 6;
		} else {
			return -EBADMSG;
		}
		nlen = (size_t)(nl - p) - kl;
		if (nlen > 64 || memchr(p + kl, '\0', nlen) || memchr(p + kl, ':', nlen))
			return -EBADMSG;
		if (strv_add(sv, appl, kind, p + kl, nlen) < 0)
			return -ENOMEM;
		p = nl + 1;
	}
	return 0;
}

int accord_backup_ptauth(const struct accord_backup *b, char ***out, size_t *n,
			 struct accord_err *err)
{
	struct strv sv = { 0 };
	size_t i;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (!b->info.has_ptauth)
		return accord_err_set(err, -ENOENT, "the backup does not hold the PassTicket "
				      "permissions (it was taken without access to the secrets "
				      "store)");
	for (i = 0; r == 0 && i < b->nsecs; i++)
		if (!memcmp(b->secs[i].tag, "PTAU", 4))
			r = ptauth_lines(&sv, b->secs[i].name, b->secs[i].data, b->secs[i].len);
	if (r == 0)
		r = strv_finish(&sv, out, n);
	if (r < 0) {
		accord_strings_free(sv.v, sv.n);
		return accord_err_set(err, r, r == -ENOMEM ? "out of memory"
				      : "a PassTicket permission file in the backup is damaged");
	}
	return 0;
}

static int permit_cb(const char *appl, uint32_t kind, const char *who, void *ctx)
{
	return strv_add(ctx, appl, kind == ACCORD_ACE_USER ? "user" : "group", who,
			strlen(who));
}

int accord_ptauth_strings(const char *registry_dir, char ***out, size_t *n,
			  struct accord_err *err)
{
	struct accord_secrets *s = NULL;
	struct strv sv = { 0 };
	int r;

	*out = NULL;
	*n = 0;
	r = accord_secrets_open(registry_dir, false, &s, err);
	if (r == -ENOENT)
		return strv_finish(&sv, out, n) < 0
			       ? accord_err_set(err, -ENOMEM, "out of memory") : 0;
	if (r < 0)
		return r;
	r = accord_pt_permit_list(s, NULL, permit_cb, &sv, err);
	accord_secrets_close(s);
	if (r == -ENOMEM)
		accord_err_set(err, r, "out of memory");
	if (r == 0)
		r = strv_finish(&sv, out, n);
	if (r < 0) {
		accord_strings_free(sv.v, sv.n);
		return r;
	}
	return 0;
}

int accord_backup_trusted(const struct accord_backup *b, struct accord_err *err)
{
	const struct stat *st = &b->st;

	/* what restore applies as root must be root's (or the caller's) own
	 * file: its checksums prove no damage, not who wrote it */
	if ((st->st_uid != 0 && st->st_uid != geteuid()) || (st->st_mode & 022) ||
	    st->st_nlink != 1)
		return accord_err_set(err, -EPERM, "the backup file must be owned by root, "
				      "have one link and not be writable by group or others "
				      "(owner uid %u, mode %04o, %u links): anyone who can write "
				      "it can recompute its checksums",
				      (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777),
				      (unsigned)st->st_nlink);
	return 0;
}
