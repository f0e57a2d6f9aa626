/* SPDX-License-Identifier: MIT */
/*
 * Storages: disks, file systems or directory trees shared between hosts
 * (IBM i independent ASPs).  Each carries a manifest at its root,
 * PATH/.accord/manifest.json, naming the profiles and groups that own its
 * files (by name, with the ID and file count they had where it was
 * scanned); the registry keeps a copy per storage in
 * <registry>/storages/NAME.json (same format) for `storage list` and the
 * delete guard.  Attaching a storage to another registry matches owners
 * by name and converts ownership where the IDs differ, journaled in
 * PATH/.accord/convert.journal so that a killed conversion resumes to the
 * same result.
 *
 * Nothing here prints; progress goes through a callback.
 */
#ifndef ACCORD_STORAGE_H
#define ACCORD_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>
#include <accord/snapshot.h>
#include <accord/state.h>

#define ACCORD_STORAGE_NAME_MAX 64       /* [a-z0-9][a-z0-9._-]* */
#define ACCORD_MANIFEST_MAX (512u << 20) /* bytes */
#define ACCORD_MANIFEST_OWNERS_MAX 8000000u
#define ACCORD_STORAGE_META ".accord"
#define ACCORD_MANIFEST_FORMAT 1

enum accord_owner_kind { ACCORD_OWNER_USER = 0, ACCORD_OWNER_GROUP = 1 };

struct accord_owner {
	uint32_t kind, id;
	uint64_t files;
	char name[ACCORD_NAME_MAX + 1]; /* "": the ID had no registry name */
};

struct accord_manifest {
	char name[ACCORD_STORAGE_NAME_MAX + 1];
	char registry[37];     /* UUID of the registry it belongs to */
	char path[4096];       /* where it was last scanned or attached */
	int64_t created, scanned;
	uint64_t files;        /* entries counted (the root included) */
	struct accord_owner *owners; /* sorted: kind, then id; unique */
	size_t nowners;
};

int accord_storage_check_name(const char *name, struct accord_err *err);

/* The text form: JSON whose last member is a checksum of everything
 * before it, so that a hand-edited or truncated file is refused. */
int accord_manifest_parse(const char *text, size_t len,
			  struct accord_manifest *m, struct accord_err *err);
int accord_manifest_format(const struct accord_manifest *m, char **out,
			   size_t *len);
void accord_manifest_free(struct accord_manifest *m);
/* Reads a manifest file: a regular file, no link, owned by root (or the
 * caller), not writable by group or others.  -ENOENT when missing. */
int accord_manifest_read(const char *file, struct accord_manifest *m,
			 struct accord_err *err);
/* Writes dir/<file> (0644) by tmp + fsync + rename. */
int accord_manifest_write(const char *dir, const char *file,
			  const struct accord_manifest *m,
			  struct accord_err *err);

/* Is root/.accord safe to read and write as root?  The root directory
 * owned by root and not writable by group or others (or sticky), .accord
 * a directory (no link) owned by root, not writable by group or others;
 * create: make .accord (0755) when missing.  -ENOENT (err untouched)
 * when .accord is missing and not created, -EPERM when not trusted. */
int accord_storage_meta_check(const char *root, bool create,
			      struct accord_err *err);

/* ---- walking a storage -------------------------------------------- */

struct accord_idcount {
	uint32_t id;
	uint64_t n;
};

struct accord_idpair {
	uint32_t from, to;
};

struct accord_walk {
	/* in */
	const char *root;        /* absolute, a directory */
	const char *checkpoint;  /* resume file, NULL: none */
	const char *tag;         /* what a checkpoint must belong to */
	const struct accord_idpair *umap, *gmap; /* sorted by from; a file
						    changes only when its
						    owner is a from */
	size_t numap, ngmap;
	void (*progress)(void *ctx, uint64_t seen, uint64_t changed, bool done);
	/* a file whose owner a map would change but that has other hard
	 * links (they may be outside the storage): left as it is, counted
	 * with its owner; top is the top-level entry it is under */
	void (*on_linked)(void *ctx, const char *top, const char *name, uint32_t uid,
			  uint32_t gid);
	void *ctx;
	/* out */
	bool resumed;            /* a checkpoint was taken up */
	uint64_t files, changed;
	uint64_t linked;         /* files left because of other hard links */
	struct accord_idcount *uids, *gids; /* after the change, sorted */
	size_t nuids, ngids;
};

/*
 * Walks root without following symlinks or leaving its file system,
 * skipping root/.accord; counts every entry (the root too) per UID and
 * GID, after applying the maps (on the file opened without following,
 * checked again there; set-ID bits put back; a non-directory with more
 * than one hard link is never changed, see on_linked).  With a
 * checkpoint, progress is saved about once a second after whole
 * top-level entries, and a walk with the same tag continues from it;
 * the checkpoint is removed at the end.
 */
int accord_storage_walk(struct accord_walk *w, struct accord_err *err);
void accord_walk_free(struct accord_walk *w);

/* Owners of a walk's counts, named through the snapshot (sorted). */
int accord_storage_owners(const struct accord_snapshot *snap,
			  const struct accord_walk *w,
			  struct accord_owner **out, size_t *n,
			  struct accord_err *err);

/* ---- the registry side ------------------------------------------- */

/* <registry>/storages/NAME.json; -ENOENT when not registered. */
int accord_storage_record_read(const char *registry, const char *name,
			       struct accord_manifest *m,
			       struct accord_err *err);
int accord_storage_record_write(const char *registry,
				const struct accord_manifest *m,
				struct accord_err *err);
int accord_storage_record_remove(const char *registry, const char *name,
				 struct accord_err *err);
/* Every record, sorted by name. */
int accord_storage_records(const char *registry, struct accord_manifest **out,
			   size_t *n, struct accord_err *err);
void accord_storage_records_free(struct accord_manifest *v, size_t n);

/* Appends one JSON line to root/.accord/audit.jsonl (time added). */
int accord_storage_audit(const char *root, const char *storage,
			 const char *actor, const char *action,
			 const char *kind, const char *name, int64_t from,
			 int64_t to, uint64_t files, struct accord_err *err);

/* ---- attach plan -------------------------------------------------- */

enum accord_plan_action {
	ACCORD_PLAN_OK,        /* same name, same ID */
	ACCORD_PLAN_CREATE,    /* missing: created with the manifest's ID */
	ACCORD_PLAN_CREATE_REMAP, /* missing, ID not free: next free ID */
	ACCORD_PLAN_REMAP,     /* exists with another ID */
	ACCORD_PLAN_UNNAMED,   /* no registry name where it was scanned */
};

struct accord_plan_entry {
	const struct accord_owner *owner; /* into the manifest */
	uint32_t action;       /* enum accord_plan_action */
	uint32_t new_id;       /* the ID here */
};

/*
 * Matches the manifest's owners to the state by name and creates the
 * missing ones (groups first, then users: disabled, no-password, the
 * group of the same name as primary group when there is one).  On a
 * throw-away state this is the dry run; inside a transaction, the
 * attach.  *plan is malloc'd (m->nowners entries).
 */
int accord_storage_plan(struct accord_state *st,
			const struct accord_manifest *m,
			const struct accord_defaults *def,
			struct accord_plan_entry **plan,
			struct accord_err *err);

/* ---- ownership conversion --------------------------------------- */

#define ACCORD_CONVERT_PHASES 2

struct accord_convert {
	char storage[ACCORD_STORAGE_NAME_MAX + 1];
	char registry[37];
	char op[16];             /* "attach" or "transfer" */
	size_t nphases, current; /* current: 0-based phase to run next */
	struct {
		struct accord_idpair *u, *g; /* sorted by from */
		size_t nu, ng;
	} phase[ACCORD_CONVERT_PHASES];
	uint64_t sum;            /* checksum of the journal's plan */
};

/*
 * Builds the phases for the maps (from -> to, one entry per from).  A
 * phase never has an ID that is both a from and a to, so running it
 * again is harmless: where a map has such an ID (a swap), the first
 * phase moves it to a temporary ID that is in none of avoid[] (the IDs
 * on the storage) and the second moves it on.
 */
int accord_convert_build(struct accord_convert *cv,
			 const struct accord_idpair *u, size_t nu,
			 const struct accord_idpair *g, size_t ng,
			 const uint32_t *avoid, size_t navoid);
void accord_convert_free(struct accord_convert *cv);
/* root/.accord/convert.journal: save (atomic; sets cv->sum), load
 * (-ENOENT: none; -EBADMSG: damaged). */
int accord_convert_save(const char *root, struct accord_convert *cv,
			struct accord_err *err);
int accord_convert_load(const char *root, struct accord_convert *cv,
			struct accord_err *err);
int accord_convert_remove(const char *root, struct accord_err *err);
/*
 * Runs the phases from cv->current, saving the journal after each; w
 * (root, progress set by the caller) ends with the last phase's counts.
 * The journal stays until the caller has published the new manifest.
 */
int accord_convert_run(const char *root, struct accord_convert *cv,
		       struct accord_walk *w, struct accord_err *err);

/* ---- idmapped mounts ---------------------------------------------- */

/* The kernel's limits for one uid_map or gid_map write. */
#define ACCORD_IDMAP_LINES_MAX 340
#define ACCORD_IDMAP_TEXT_MAX 4095

/*
 * An idmapped mount over a storage's root (mount_setattr(2) with
 * MOUNT_ATTR_IDMAP, no util-linux needed): u and g map the ID a file has
 * on disk to the ID it shows here, identity for every other ID.  Kept in
 * PATH/.accord/idmap and, with the mount made, in the registry's
 * storages/NAME.idmap (text, root 0644).
 */
struct accord_idmap {
	char storage[ACCORD_STORAGE_NAME_MAX + 1];
	char registry[37];
	struct accord_idpair *u, *g; /* sorted by from; from != to */
	size_t nu, ng;
	char boot_id[40];          /* the mount made: boot and mount ID */
	uint64_t mnt_id;           /* 0: none recorded */
};

void accord_idmap_free(struct accord_idmap *im);
/* The uid_map/gid_map text of a map: its pairs and identity ranges split
 * around every from and to.  -E2BIG (*lines, *bytes still set) beyond
 * the kernel's limits; *out malloc'd. */
int accord_idmap_text(const struct accord_idpair *m, size_t n, char **out,
		      size_t *lines, size_t *bytes);
/* A short name of the file system of path ("ext4", "tmpfs", ...). */
void accord_fs_name(const char *path, char *buf, size_t len);
/*
 * Can root be mounted over with this map?  Tried on a detached private
 * clone (open_tree OPEN_TREE_CLONE + mount_setattr) that never becomes
 * visible.  0, or < 0 with the reason in err.
 */
int accord_idmap_try(const char *root, const struct accord_idmap *im,
		     struct accord_err *err);
/* Mounts the idmapped clone of root over root; sets im->boot_id and
 * im->mnt_id. */
int accord_idmap_mount(const char *root, struct accord_idmap *im,
		       struct accord_err *err);
/* Is root the idmapped mount im recorded (same boot, same mount)? */
bool accord_idmap_is_ours(const char *root, const struct accord_idmap *im);
/* umount2(root, 0), only when accord_idmap_is_ours(). */
int accord_idmap_umount(const char *root, const struct accord_idmap *im,
			struct accord_err *err);
/* file: a path; -ENOENT when missing, -EBADMSG when damaged. */
int accord_idmap_load(const char *file, struct accord_idmap *im,
		      struct accord_err *err);
int accord_idmap_save(const char *dir, const char *file,
		      const struct accord_idmap *im, struct accord_err *err);
/* Two maps with the same pairs. */
bool accord_idmap_same(const struct accord_idmap *a,
		       const struct accord_idmap *b);

#endif
