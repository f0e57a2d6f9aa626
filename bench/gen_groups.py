#!/usr/bin/env python3
"""gen_groups.py - data for the initgroups benchmark.

usage: gen_groups.py [--groups G] [--users U] [--per-user K] [--seed S] OUTDIR

Writes into OUTDIR:
  passwd, group        /etc/passwd and /etc/group format
  names                "name uid primary_gid" per user (nssbench key file)
  passwd.cache, group.cache and their libnss-cache indexes
  (.ixname/.ixuid/.ixgid, fixed-width, strcmp-sorted, written last so that
  they are not older than the data files), the same layout nssbench gen
  writes.

G groups g000000.. with gid 100000 + i (default 100,000), U users
b000000.. with uid 1000000 + i (default 10,000).  Each user's primary group
is one of the G groups and the user is listed as a member of K (default 10)
other distinct random groups, so initgroups / getgrouplist finds K
supplementary groups plus the primary one.
"""
import argparse
import os
import random

GID_BASE = 100000
UID_BASE = 1000000


def write_index(path, entries):
    """libnss-cache index: "key\\0offset\\0<NUL pad>\\n", strcmp order."""
    entries.sort(key=lambda e: e[0].encode())
    width = max(len(k) + 1 + len(str(o)) + 1 for k, o in entries)
    with open(path, "wb") as f:
        for k, o in entries:
            rec = k.encode() + b"\0" + str(o).encode() + b"\0"
            f.write(rec + b"\0" * (width - len(rec)) + b"\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=100000)
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("outdir")
    a = ap.parse_args()
    if a.per_user + 1 > a.groups:
        ap.error("--per-user must be smaller than --groups")
    rnd = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)

    members = [[] for _ in range(a.groups)]
    users = []
    for i in range(a.users):
        name = "b%06d" % i
        uid = UID_BASE + i
        prim = rnd.randrange(a.groups)
        chosen = set()
        while len(chosen) < a.per_user:
            g = rnd.randrange(a.groups)
            if g != prim:
                chosen.add(g)
        for g in sorted(chosen):
            members[g].append(name)
        users.append((name, uid, GID_BASE + prim))

    pw_name, pw_uid = [], []
    with open(os.path.join(a.outdir, "passwd"), "wb") as pw, \
            open(os.path.join(a.outdir, "names"), "w") as nm:
        for name, uid, gid in users:
            off = pw.tell()
            pw_name.append((name, off))
            pw_uid.append((str(uid), off))
            pw.write(("%s:x:%d:%d:Bench User %d:/home/%s:/bin/sh\n"
                      % (name, uid, gid, uid - UID_BASE, name)).encode())
            nm.write("%s %d %d\n" % (name, uid, gid))

    gr_name, gr_gid = [], []
    with open(os.path.join(a.outdir, "group"), "wb") as gr:
        for g in range(a.groups):
            off = gr.tell()
            name = "g%06d" % g
            gr_name.append((name, off))
            gr_gid.append((str(GID_BASE + g), off))
            gr.write(("%s:x:%d:%s\n" % (name, GID_BASE + g, ",".join(members[g]))).encode())

    for src, dst in (("passwd", "passwd.cache"), ("group", "group.cache")):
        with open(os.path.join(a.outdir, src), "rb") as f, \
                open(os.path.join(a.outdir, dst), "wb") as g:
            g.write(f.read())
    write_index(os.path.join(a.outdir, "passwd.cache.ixname"), pw_name)
    write_index(os.path.join(a.outdir, "passwd.cache.ixuid"), pw_uid)
    write_index(os.path.join(a.outdir, "group.cache.ixname"), gr_name)
    write_index(os.path.join(a.outdir, "group.cache.ixgid"), gr_gid)


if __name__ == "__main__":
    main()
