#!/usr/bin/env python3
"""report.py - render bench/run.sh's results.txt as markdown.

usage: report.py results.txt > results.md

Our figures are measured ROUNDS times per configuration (before and after
the anchors); the tables show the lowest p50 of the rounds (the least
disturbed by other load on the machine) and every round in parentheses.
Ratios are ours / anchor (< 1: ours is faster); "x" columns are anchor /
ours.
"""
import statistics
import sys

TARGET_DIRECT_US = 1.5
TARGET_GLIBC_US = 3.0
TARGET_GROWTH = 2.0
TARGET_MISS = 1.25      # a miss p50 at most this many times the hit p50
TARGET_INITGR_US = 5.0
TARGET_IMPORT_S = 60.0
TARGET_ADD_MS = 200.0
TARGET_PAM_US = 20.0
TARGET_PT_PER_S = {"legacy": 200000, "enhanced": 50000}   # validations / s, one core
TARGET_CERTMAP_US = 10.0     # accord_certmap_resolve() at 100,000 maps
TARGET_CERTMAP_GROWTH = 2.0  # ... at most this many times its cost at 10 maps
TARGET_CERT_LOGON_US = 2000.0
OPS = [("getpwnam_r", "hit"), ("getpwuid_r", "hit"), ("initgroups", "hit"),
       ("getpwnam_r", "miss"), ("getpwuid_r", "miss")]


def parse(path):
    recs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or not parts[0].isupper():
                continue
            r = {"_type": parts[0], "_line": line.rstrip("\n")}
            for tok in parts[1:]:
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    r[k] = v
                else:
                    r[tok] = True
            lab = {}
            for kv in r.get("label", "").split(","):
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    lab[k] = v
            r["_lab"] = lab
            recs.append(r)
    return recs


def fus(v):
    """format microseconds"""
    if v is None:
        return "–"
    if v >= 1000000:
        return "%.2f s" % (v / 1e6)
    if v >= 1000:
        return "%.1f ms" % (v / 1e3)
    if v >= 100:
        return "%.0f µs" % v
    if v >= 10:
        return "%.1f µs" % v
    return "%.2f µs" % v


def fratio(ours, anchor):
    if ours is None or anchor is None or anchor == 0:
        return "–"
    r = ours / anchor
    if r >= 0.1:
        s = "%.2f" % r
    else:
        s = "%.1e" % r
    if r < 1:
        s += " (%sx faster)" % fnum(anchor / ours)
    return s


def fnum(x):
    if x >= 100:
        return "{:,.0f}".format(x)
    if x >= 10:
        return "%.0f" % x
    return "%.1f" % x


def yes(b):
    return "**yes**" if b else "**NO**"


class Results:
    def __init__(self, recs):
        self.recs = recs
        self.res = [r for r in recs if r["_type"] == "RESULT" and "unsupported" not in r]

    def rows(self, part, service, mode, op, keys, **lab):
        out = []
        for r in self.res:
            L = r["_lab"]
            if (L.get("part") == part and r.get("service") == service and r.get("mode") == mode
                    and r.get("op") == op and L.get("keys") == keys
                    and all(L.get(k) == str(v) for k, v in lab.items())):
                out.append(r)
        return out

    def p50(self, *a, **k):
        """(lowest p50 over rounds, [p50 per round], errors, lookups)"""
        rs = self.rows(*a, **k)
        if not rs:
            return None, [], 0, 0
        vals = [float(r["p50_us"]) for r in rs]
        return (min(vals), vals, sum(int(r["errors"]) for r in rs),
                sum(int(r["lookups"]) for r in rs))


def cell(v, vals):
    if v is None:
        return "–"
    if len(vals) > 1:
        return "%s (%s)" % (fus(v), " / ".join("%.2f" % x if x < 10 else fus(x) for x in vals))
    return fus(v)


def main():
    recs = parse(sys.argv[1])
    R = Results(recs)
    out = []
    w = out.append
    machine = next((r for r in recs if r["_type"] == "MACHINE"), {})
    config = next((r for r in recs if r["_type"] == "CONFIG"), {})
    ns = [int(x) for x in config.get("ns", "").split(",") if x]
    ns_lookup = sorted({int(r["_lab"]["n"]) for r in R.res
                        if r["_lab"].get("part") == "lookup"})
    loads = [r for r in recs if r["_type"] == "LOAD"]

    w("Machine: %s CPUs, kernel %s, glibc %s, %s, %s MB RAM; %s; commit %s (%s uncommitted "
      "paths).  Load average (1 min) during the run: %s.  Elapsed: %s s.\n" % (
          machine.get("nproc"), machine.get("kernel"), machine.get("glibc"),
          machine.get("cpu", "").replace("_", " "), machine.get("mem_mb"), machine.get("date"),
          machine.get("commit"), machine.get("dirty"),
          "%s–%s" % (min(float(l["load1"]) for l in loads), max(float(l["load1"]) for l in loads))
          if loads else "?",
          next((r["s"] for r in recs if r["_type"] == "ELAPSED"), "?")))
    w("Settings: %s\n" % " ".join("%s=%s" % (k, v) for k, v in config.items()
                                 if not k.startswith("_")))

    # ---------------------------------------------------------------- targets
    targets = []
    big, small = (max(ns_lookup), min(ns_lookup)) if ns_lookup else (None, None)
    if big:
        for mode, lim in (("direct", TARGET_DIRECT_US), ("glibc", TARGET_GLIBC_US)):
            for op in ("getpwnam_r", "getpwuid_r"):
                v = R.p50("lookup", "accord", mode, op, "hit", n=big)[0]
                f = R.p50("lookup", "files", "glibc", op, "hit", n=big)[0]
                c = R.p50("lookup", "cache", "glibc", op, "hit", n=big)[0]
                targets.append(("%s p50, %s, N=%s" % (op, "called directly" if mode == "direct"
                                                     else "through glibc", fmtn(big)),
                                "≤ %.1f µs" % lim, fus(v),
                                "files %s, cache %s" % (fus(f), fus(c)),
                                yes(v is not None and v <= lim)))
        if small != big:
            for mode in ("direct", "glibc"):
                for op in ("getpwnam_r", "getpwuid_r"):
                    a = R.p50("lookup", "accord", mode, op, "hit", n=big)[0]
                    b = R.p50("lookup", "accord", mode, op, "hit", n=small)[0]
                    if a is None or b is None:
                        continue
                    anc = []
                    for svc, amode, txt in (("cdb-interval", "cdb-sim", "cdb-sim (stat ≤ 1/s)"),
                                            ("cache", "glibc", "cache glibc")):
                        cb = R.p50("lookup", svc, amode, op, "hit", n=big)[0]
                        cs = R.p50("lookup", svc, amode, op, "hit", n=small)[0]
                        if cb and cs:
                            anc.append("%s %.2f (%s / %s)" % (txt, cb / cs, fus(cb), fus(cs)))
                    targets.append(("%s %s: p50 at N=%s / N=%s" % (op, mode, fmtn(big), fmtn(small)),
                                    "≤ %.1f" % TARGET_GROWTH, "%.2f (%s / %s)" % (a / b, fus(a), fus(b)),
                                    "; ".join(anc) or "–",
                                    yes(a / b <= TARGET_GROWTH)))
        kc = next((r for r in recs if r["_type"] == "KEYCOST"), None)
        kh = float(kc["hit_p50_us"]) if kc else 0.0
        km = float(kc["miss_p50_us"]) if kc else 0.0
        for mode in ("direct", "glibc"):
            for op in ("getpwnam_r", "getpwuid_r"):
                worst = None
                for n in ns_lookup:
                    h = R.p50("lookup", "accord", mode, op, "hit", n=n)[0]
                    m = R.p50("lookup", "accord", mode, op, "miss", n=n)[0]
                    if h and m and h > kh and (worst is None or (m - km) / (h - kh) > worst[0]):
                        worst = ((m - km) / (h - kh), n, m, h, m / h)
                if worst:
                    fh = R.p50("lookup", "files", "glibc", op, "hit", n=worst[1])[0]
                    fm = R.p50("lookup", "files", "glibc", op, "miss", n=worst[1])[0]
                    targets.append(("%s %s: miss p50 / hit p50 (worst N)" % (op, mode),
                                    "≤ %.2f (\"as cheap\")" % TARGET_MISS,
                                    "%.2f at N=%s (raw %s / %s = %.2f, minus the harness's "
                                    "own %.2f / %.2f µs per key)" % (
                                        worst[0], fmtn(worst[1]), fus(worst[2]), fus(worst[3]),
                                        worst[4], km, kh),
                                    "files %.2f" % (fm / fh) if fm and fh else "–",
                                    yes(worst[0] <= TARGET_MISS)))
    ig = [r for r in R.res if r["_lab"].get("part") == "initgroups"]
    if ig:
        L = ig[0]["_lab"]
        for mode, amode in (("direct", "direct"), ("glibc", "glibc")):
            v = R.p50("initgroups", "accord", mode, "initgroups", "hit")[0]
            c = R.p50("initgroups", "cache", "glibc", "initgroups", "hit")[0]
            f = R.p50("initgroups", "files", amode, "initgroups", "hit")[0]
            targets.append(("initgroups p50 (%s), user in %s of %s groups" % (
                "called directly" if mode == "direct" else "getgrouplist through glibc",
                L.get("per_user"), fmtn(int(L.get("groups", 0)))),
                "≤ %.0f µs" % TARGET_INITGR_US, fus(v),
                "cache %s, files %s" % (fus(c), fus(f)),
                yes(v is not None and v <= TARGET_INITGR_US)))
    mem = memory_summary(recs, "accord")
    if mem:
        targets.append(("memory: growth over %s lookups (after the first lookup)" %
                        fmtn(mem["lookups"]),
                        "none but the mapped snapshot",
                        "RssAnon %+d kB, malloc %+d B, VmSize %+d kB; the first lookup "
                        "mapped %s kB (snapshot: %s kB); RssFile +%s kB since dlopen (snapshot pages and "
                        "libc code touched)" %
                        (mem["d_anon"], mem["d_heap"], mem["d_vmsize"], fmtn(mem["map_kb"]),
                         fmtn(mem["snap_kb"]) if mem["snap_kb"] else "?", fmtn(mem["d_file"])),
                        anchor_mem_text(recs) + "".join(
                            "; first lookup in a process: %s %s" % (r["_lab"].get("module"),
                                                                    fus(float(r["us"])))
                            for r in recs if r["_type"] == "FIRST"),
                        yes(mem["d_anon"] <= 64 and mem["d_heap"] <= 0 and mem["d_vmsize"] <= 0)))
    imps = [r for r in recs if r["_type"] == "IMPORT" and r["_lab"].get("n")]
    if imps:
        r = max(imps, key=lambda r: int(r["users"]))
        gen = next((g for g in recs if g["_type"] == "GEN" and g["_lab"].get("n") == r["_lab"]["n"]), None)
        targets.append(("`accordctl import` of %s users" % fmtn(int(r["users"])),
                        "≤ %.0f s" % TARGET_IMPORT_S, "%s s" % r["wall_s"],
                        "nssbench gen (writes passwd, group, cache indexes) %s s" % gen["wall_s"]
                        if gen else "–",
                        yes(float(r["wall_s"]) <= TARGET_IMPORT_S and r["rc"] == "0")))
    add_n = config.get("add_n", "100000")
    adds = add_summary(recs, add_n)
    if adds:
        o, u, un = adds.get("accordctl"), adds.get("useradd"), adds.get("useradd-N")
        if o:
            anc = []
            if u:
                anc.append("useradd p50 %s (%d calls)" % (fms(u["p50"]), u["calls"]))
            if un:
                anc.append("useradd -N p50 / p90 %s / %s" % (fms(un["p50"]), fms(un["p90"])))
            targets.append(("`accordctl user add` on %s users, synced: p50 / p90 over %d calls" %
                            (fmtn(o["n"]), o["calls"]), "≤ %.0f ms" % TARGET_ADD_MS,
                            "%.1f / %.1f ms (p50 per round: %s ms%s)" % (
                                o["p50"], o["p90"], " / ".join(
                                    "%.0f" % statistics.median(v) for _, v in sorted(o["rounds"].items())),
                                "; CPU p50 %.0f ms" % o["cpu_p50"] if o.get("cpu_p50") is not None else ""),
                            "; ".join(anc) or "–",
                            yes(o["p50"] <= TARGET_ADD_MS and o["p90"] <= TARGET_ADD_MS and o["fail"] == 0)))
    for alg, lim in TARGET_PT_PER_S.items():
        inv = [r for r in recs if r["_type"] == "PT" and r.get("alg") == alg
               and r.get("method") == "invert"]
        if not inv:
            continue
        scan = [float(r["per_s"]) for r in recs if r["_type"] == "PT" and r.get("alg") == alg
                and r.get("method") == "scan"]
        worst = min(float(r["per_s"]) for r in inv)
        targets.append(("PassTicket validations per second, %s, one core (worst of %d)" % (
                            alg, len(inv)), "≥ %s /s" % fmtn(lim), "%s /s" % fmtn(worst),
                        "scan of the window: %s /s" % fmtn(max(scan)) if scan else "–",
                        yes(worst >= lim and all(r.get("errors") == "0" for r in inv))))

    w("## Targets\n")
    w("| target | limit | ours | anchor (same run) | met |")
    w("|---|---|---|---|---|")
    for t in targets:
        w("| %s |" % " | ".join(t))
    w("")

    # ---------------------------------------------------------------- lookups
    if ns_lookup:
        w("## Lookups: p50 latency by N\n")
        w("Lowest p50 over the rounds; per-round p50 (µs) in parentheses for ours.  "
          "`direct` = the module's `_nss_*_` function called through dlopen; `glibc` = "
          "`getpwnam_r`/`getpwuid_r`/`getgrouplist` with the service selected by "
          "`__nss_configure_lookup`.  `initgroups` for nssbench's data: the personal "
          "group plus one team group per user.\n")
        w("| service (mode) | op | keys | %s | N=%s / N=%s | errors |" % (
            " | ".join("N=%s" % fmtn(n) for n in ns_lookup), fmtn(ns_lookup[-1]), fmtn(ns_lookup[0])))
        w("|---|---|---|%s---|---|" % ("---|" * len(ns_lookup)))
        for svc, mode in (("accord", "direct"), ("accord", "glibc"), ("files", "glibc"),
                          ("files", "direct"), ("cache", "glibc"), ("cache", "direct"),
                          ("extrausers", "glibc"), ("extrausers", "direct"),
                          ("cdb", "cdb-sim"), ("cdb-interval", "cdb-sim")):
            for op, keys in OPS:
                cells, errs, byn = [], 0, {}
                for n in ns_lookup:
                    v, vals, e, _ = R.p50("lookup", svc, mode, op, keys, n=n)
                    errs += e
                    byn[n] = v
                    cells.append(cell(v, vals) if svc == "accord" else fus(v))
                first, last = byn.get(ns_lookup[0]), byn.get(ns_lookup[-1])
                if all(c == "–" for c in cells):
                    continue
                growth = "%.2f" % (last / first) if first and last else "–"
                name = {"accord": "**ours** (%s)" % mode,
                        "cdb": "cdb-sim, stat per lookup (no NSS)",
                        "cdb-interval": "cdb-sim, stat ≤ 1/s (no NSS)"}.get(
                            svc, "%s (%s)" % (svc, mode))
                w("| %s | %s | %s | %s | %s | %s |" % (name, op, keys,
                                                    " | ".join(cells), growth, errs))
        ml = {r["_lab"].get("n"): r for r in recs if r["_type"] == "MEMLAT"}
        if ml:
            cells = [fus(float(ml[str(n)]["read_p50_us"])) if str(n) in ml else "–"
                     for n in ns_lookup]
            first, last = ml.get(str(ns_lookup[0])), ml.get(str(ns_lookup[-1]))
            w("| memory floor: one random 8-byte read in a mapping of the snapshot | – | – | %s | %s | – |" % (
                " | ".join(cells), "%.2f" % (float(last["read_p50_us"]) / float(first["read_p50_us"]))
                if first and last and float(first["read_p50_us"]) > 0 else "–"))
        kc = next((r for r in recs if r["_type"] == "KEYCOST"), None)
        if kc:
            w("| harness: nssbench choosing the key, no lookup (hit / miss) | – | – | %s | – | – |" % (
                " | ".join("%s / %s" % (fus(float(kc["hit_p50_us"])), fus(float(kc["miss_p50_us"])))
                           for _ in ns_lookup)))
        w("")
        w("### Ratios ours / anchor (p50)\n")
        w("| ours | anchor | op | keys | %s |" % " | ".join("N=%s" % fmtn(n) for n in ns_lookup))
        w("|---|---|---|---|%s" % ("---|" * len(ns_lookup)))
        for omode, asvc, amode in (("glibc", "files", "glibc"), ("glibc", "cache", "glibc"),
                                   ("glibc", "extrausers", "glibc"), ("direct", "files", "direct"),
                                   ("direct", "cache", "direct"), ("direct", "extrausers", "direct"),
                                   ("direct", "cdb-interval", "cdb-sim")):
            for op, keys in OPS:
                cells = []
                for n in ns_lookup:
                    o = R.p50("lookup", "accord", omode, op, keys, n=n)[0]
                    a = R.p50("lookup", asvc, amode, op, keys, n=n)[0]
                    cells.append(fratio(o, a))
                if all(c == "–" for c in cells):
                    continue
                w("| %s | %s (%s) | %s | %s | %s |" % (omode, asvc, amode, op, keys, " | ".join(cells)))
        w("")

    # ---------------------------------------------------------------- import
    if imps or any(r["_type"] == "IMPORT" for r in recs):
        w("## `accordctl import` (fresh registry, one commit, snapshot installed)\n")
        w("| data | users | groups | wall time | max RSS | snapshot | registry on disk | "
          "anchor: `nssbench gen` (same files + libnss-cache indexes) | ratio |")
        w("|---|---|---|---|---|---|---|---|---|")
        for r in recs:
            if r["_type"] != "IMPORT":
                continue
            gen = next((g for g in recs if g["_type"] == "GEN" and r["_lab"].get("n")
                        and g["_lab"].get("n") == r["_lab"]["n"]), None)
            w("| %s | %s | %s | %s s%s | %s MB | %s MB | %s MB | %s | %s |" % (
                r["label"], fmtn(int(r["users"])), fmtn(int(r["groups"])), r["wall_s"],
                "" if r["rc"] == "0" else " (rc=%s!)" % r["rc"],
                "%.0f" % (int(r.get("maxrss_kb", 0)) / 1024),
                "%.1f" % (int(r["snapshot_bytes"]) / 1e6), "%.1f" % (int(r["registry_bytes"]) / 1e6),
                "%s s" % gen["wall_s"] if gen else "–",
                "%.1f" % (float(r["wall_s"]) / float(gen["wall_s"]))
                if gen and float(gen["wall_s"]) > 0 else "–"))
        w("")

    # ---------------------------------------------------------------- initgroups
    if ig:
        L = ig[0]["_lab"]
        w("## initgroups: a user in %s groups among %s groups\n" % (
            L.get("per_user"), fmtn(int(L.get("groups", 0)))))
        w("libnss-cache has no `initgroups_dyn`, so glibc enumerates the whole group "
          "database through it (`setgrent`/`getgrent_r`); glibc `files` has "
          "`_nss_files_initgroups_dyn` (a scan of /etc/group).\n")
        w("| service (mode) | keys | p50 | p99 | ops/s | lookups | errors | ours/anchor |")
        w("|---|---|---|---|---|---|---|---|")
        anchor_ref = {}
        for svc, mode in (("cache", "glibc"), ("files", "glibc"), ("files", "direct")):
            anchor_ref[(svc, mode)] = R.p50("initgroups", svc, mode, "initgroups", "hit")[0]
        for svc, mode in (("accord", "direct"), ("accord", "glibc"), ("cache", "glibc"),
                          ("files", "glibc"), ("files", "direct")):
            for keys in ("hit", "miss"):
                rs = R.rows("initgroups", svc, mode, "initgroups", keys)
                if not rs:
                    continue
                best = min(rs, key=lambda r: float(r["p50_us"]))
                ratio = "–"
                if svc == "accord" and keys == "hit":
                    ratio = "; ".join("%s %s: %s" % (s, m, fratio(float(best["p50_us"]), v))
                                      for (s, m), v in anchor_ref.items() if v)
                p50s = [float(r["p50_us"]) for r in rs]
                w("| %s (%s) | %s | %s | %s | %s | %s | %s | %s |" % (
                    "**ours**" if svc == "accord" else svc, mode, keys,
                    cell(min(p50s), p50s) if svc == "accord" else fus(min(p50s)),
                    fus(float(best["p99_us"])), fnum(float(best["ops_per_s"])),
                    sum(int(r["lookups"]) for r in rs), sum(int(r["errors"]) for r in rs), ratio))
        w("")

    # ---------------------------------------------------------------- memory
    memrecs = [r for r in recs if r["_type"] == "MEM"]
    if memrecs:
        w("## Memory: one process, lookups cycling getpwnam_r hit / getpwuid_r hit / "
          "getpwnam_r miss / getpwuid_r miss / initgroups_dyn, called directly\n")
        for snap in (r for r in recs if r["_type"] == "SNAPSIZE"):
            w("Snapshot size at N=%s: %s kB.  RssFile counts the pages of the mapped files "
              "(libc, the module, the snapshot) this process has touched; RssAnon, VmData and "
              "malloc are what a per-lookup cache or leak would grow.\n" % (
                  fmtn(int(snap["_lab"]["n"])), fmtn(int(snap["bytes"]) / 1024)))
        for r in recs:
            if r["_type"] == "FIRST":
                w("- first lookup in a fresh process (%s): %s" % (
                    r["_lab"].get("module"), fus(float(r["us"]))))
        w("")
        w("| module | N | phase | lookups | VmRSS kB | RssAnon kB | RssFile kB | VmSize kB | "
          "VmData kB | malloc in use B | errors |")
        w("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in memrecs:
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["_lab"].get("module"), fmtn(int(r["_lab"].get("n", 0))), r["phase"],
                fmtn(int(r["lookups"])), r["vmrss_kb"], r["rss_anon_kb"], r["rss_file_kb"],
                r["vmsize_kb"], r["vmdata_kb"], r["heap_inuse_b"], r["errors"]))
        w("")

    # ---------------------------------------------------------------- user add
    if adds:
        w("## One user added to a registry of %s users\n" % fmtn(int(add_n)))
        w("`accordctl user add NAME` (creates the user and a personal group, journals, commits "
          "a new snapshot and installs it for this host) vs `useradd -l -M NAME` (default: "
          "with a user private group, the same work) and `useradd -l -M -N NAME` (no user "
          "group) on an overlay /etc holding the same users in passwd, group, shadow and "
          "gshadow.  Wall time per call; ours over all rounds.\n")
        w("| tool | calls | failed | min | p50 | p90 | max | p50 ours/anchor |")
        w("|---|---|---|---|---|---|---|---|")
        for tool, txt in (("accordctl", "**accordctl user add**"), ("useradd", "useradd"),
                          ("useradd-N", "useradd -N")):
            a = adds.get(tool)
            if not a:
                continue
            ratio = fratio(adds["accordctl"]["p50"], a["p50"]) if tool != "accordctl" and \
                "accordctl" in adds else "–"
            w("| %s | %d | %d | %s | %s | %s | %s | %s |" % (
                txt, a["calls"], a["fail"], fms(a["min"]), fms(a["p50"]), fms(a["p90"]),
                fms(a["max"]), ratio))
        w("")
        add_ns = sorted({int(r["_lab"]["n"]) for r in recs if r["_type"] == "ADD"
                         and r.get("tool") == "accordctl"})
        if len(add_ns) > 1:
            w("How one `accordctl user add` grows with the registry (same run; %s calls on "
              "each other N's registry right after its lookups):\n" % config.get("add_scale_calls", "?"))
            w("| registry users | calls | p50 wall | p90 wall | max wall | p50 CPU (user + sys) "
              "| p50 wall per 1,000 users |")
            w("|---|---|---|---|---|---|---|")
            for n in add_ns:
                a = add_summary(recs, n).get("accordctl")
                w("| %s | %d | %s | %s | %s | %s | %.2f ms |" % (
                    fmtn(n), a["calls"], fms(a["p50"]), fms(a["p90"]), fms(a["max"]),
                    fms(a["cpu_p50"]) if a.get("cpu_p50") is not None else "–",
                    a["p50"] / (n / 1000)))
            w("")
        for r in recs:
            if r["_type"] == "ADDCHECK":
                w("- check: `%s`" % r["_line"])
        w("")

    # ---------------------------------------------------------------- PAM account phase
    pam = [r for r in recs if r["_type"] == "PAM" and "module" in r]
    if pam:
        w("## PAM account phase (status + application check), in-process through libpam\n")
        w("Target: pam_accord's account phase within %.0f µs per call at %s users and %s "
          "applications. Anchor: pam_access over the same grants (one rule file per "
          "application), users and groups through NSS from the same snapshot.\n" % (
              TARGET_PAM_US, pam[0]["users"], pam[0]["appls"]))
        w("| round | module | via | calls | p50 µs | p90 µs | p99 µs | mean µs | allowed | denied | errors |")
        w("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in pam:
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r.get("round"), r["module"], r.get("via", "libpam"), r["calls"], r["p50_us"],
                r["p90_us"], r["p99_us"], r["mean_us"], r["allowed"], r["denied"], r["errors"]))
        w("")
        w("via: `libpam` = pam_acct_mgmt() on a fresh handle, caches cold (the other module ran "
          "just before), libpam's own dispatch and kernel audit record included; `direct` = the "
          "module's pam_sm_acct_mgmt() on that handle; `libpam-warm`/`direct-warm` = a long-lived "
          "handle per service (a process deciding many logons).\n")
        anch = [float(r["p50_us"]) for r in pam if r["module"] == "pam_access"]
        abest = min(anch) if anch else None
        w("| pam_accord via | best p50 µs | ratio to pam_access (%s µs) | within %.0f µs? |" % (
            "%.0f" % abest if abest else "-", TARGET_PAM_US))
        w("|---|---|---|---|")
        for via in ("libpam", "direct", "libpam-warm", "direct-warm"):
            v = [float(r["p50_us"]) for r in pam
                 if r["module"] == "pam_accord" and r.get("via", "libpam") == via]
            if not v:
                continue
            w("| %s | %.2f | %s | %s |" % (via, min(v),
              "%.5f" % (min(v) / abest) if abest else "-",
              "yes" if min(v) <= TARGET_PAM_US else "no"))
        w("")
        for r in recs:
            if r["_type"] == "PAM" and "disagreements" in r:
                w("- round %s: decisions that differ between the two modules: %s" % (
                    r.get("round"), r["disagreements"]))
        w("")

    # ---------------------------------------------------------------- PassTickets
    pt = [r for r in recs if r["_type"] == "PT"]
    if pt:
        w("## PassTicket validation, one core\n")
        w("bench/ptbench.c: `invert` = accord_pt_verify() (decode the ticket to its time, check "
          "the window: 8 DES blocks or 7 HMAC-SHA-512); `scan` = generate the ticket of each of "
          "the 1,201 seconds in the window and compare in constant time; `fetch` = what "
          "fetching the algorithm from the private OSSL_LIB_CTX on every call would add "
          "(accord fetches once per process); `libctx` = a new private library context with its "
          "provider and both fetches (what the first call of a process pays).  per s and µs from the thread's CPU time; "
          "wall per s from the wall clock (lower when the machine is busy).\n")
        w("| round | alg | type | method | calls | per s | µs/call | wall per s | errors | target |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for r in pt:
            tgt = int(r.get("target_per_s", "0"))
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r.get("round", "–"), r["alg"], r["type"], r["method"], fmtn(int(r["calls"])),
                fmtn(float(r["per_s"])), "%.2f" % float(r["us"]), fmtn(float(r["wall_per_s"])),
                r["errors"], ("≥ %s: %s" % (fmtn(tgt), yes(float(r["per_s"]) >= tgt)))
                if tgt else "–"))
        w("")
        for (alg, typ) in sorted({(r["alg"], r["type"]) for r in pt if r["method"] == "invert"}):
            inv = [float(r["per_s"]) for r in pt if (r["alg"], r["type"], r["method"]) ==
                   (alg, typ, "invert")]
            scan = [float(r["per_s"]) for r in pt if (r["alg"], r["type"], r["method"]) ==
                    (alg, typ, "scan")]
            if inv and scan:
                w("- %s%s: inverting is %sx the scan" % (
                    alg, "" if typ == "-" else " " + typ, fnum(max(inv) / max(scan))))
        w("")

    cert_section(recs, w)

    # ---------------------------------------------------------------- load, errors
    w("## Load average during the run\n")
    w("| at | time | load1 | load5 | load15 |")
    w("|---|---|---|---|---|")
    for l in loads:
        w("| %s | %s | %s | %s | %s |" % (l["at"], l["time"], l["load1"], l["load5"], l["load15"]))
    w("")
    bad = [r for r in R.res if int(r.get("errors", 0)) > 0]
    bad += [r for r in recs if r["_type"] in ("MEM", "PT", "CERT") and int(r.get("errors", 0)) > 0]
    warns = [l for l in open(sys.argv[1]) if l.startswith("warn")]
    w("Wrong or missing answers: %s.%s\n" % (
        "none (errors=0 on every line)" if not bad else "**%d lines with errors > 0**" % len(bad),
        "" if not warns else "  Warnings: %s" % "; ".join(x.strip() for x in warns)))
    sys.stdout.write("\n".join(out) + "\n")


def cert_section(recs, w):
    """bench/certbench.c's CERT lines: ours at the worst round, the anchor
    at its best (conservative ratios)."""
    cr = [r for r in recs if r["_type"] == "CERT"]
    if not cr:
        return

    def pick(worst, **k):
        vals = [float(r["us"]) for r in cr if all(r.get(a) == str(b) for a, b in k.items())]
        if not vals:
            return None, []
        return (max(vals) if worst else min(vals)), vals

    def ours(**k):
        return pick(True, part="map", impl="accord", **k)

    def sss(**k):
        return pick(False, part="map", impl="sss", scenario="exact", op="match", **k)

    def c(v):
        v, vals = v
        if v is None:
            return "–"
        if len(vals) > 1:
            return "%s (%s)" % (fus(v), " / ".join(fus(x) for x in vals))
        return fus(v)

    ms = sorted({int(r["M"]) for r in cr if r.get("part") == "map" and r.get("impl") == "accord"})
    mss = sorted({int(r["M"]) for r in cr if r.get("part") == "map" and r.get("impl") == "sss"
                  and r.get("op") == "match"})
    rounds = len({r.get("round") for r in cr})
    w("## Certificate mapping (bench/certbench.c)\n")
    w("µs per operation, thread CPU time, median of the samples of a round; ours: the worst "
      "round, libsss_certmap: its best (of %d); every round in parentheses.  resolve = "
      "accord_certmap_resolve() of an already-parsed certificate; spread = %s certificates "
      "visited with a stride (cold), hot = 10 of them; DER = accord_cert_load + "
      "accord_certnames_from_x509 + resolve; libsss_certmap = sss_certmap_match_cert() (takes "
      "DER), exact `<SUBJECT>^CN=user<i>,O=Example,C=GB$` rules at random priorities.\n" % (
          rounds, next((r["K"] for r in cr if r.get("set") == "spread"), "K")))
    w("| M maps | resolve hit | resolve miss | hit, hot | miss, hot | partial hit (step 4) | "
      "partial miss | DER → user, hit | libsss_certmap hit | libsss_certmap miss | "
      "ratio resolve / sss, hit | ratio resolve / sss, miss | ratio DER / sss, hit |")
    w("|" + "---|" * 13)
    for m in sorted(set(ms) | set(mss)):
        rh = ours(scenario="exact", M=m, op="resolve", keys="hit", set="spread")
        rm = ours(scenario="exact", M=m, op="resolve", keys="miss", set="spread")
        dh = ours(scenario="exact", M=m, op="der", keys="hit")
        sh = sss(M=m, keys="hit")
        sm = sss(M=m, keys="miss")
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            fmtn(m), c(rh), c(rm),
            c(ours(scenario="exact", M=m, op="resolve", keys="hit", set="hot")),
            c(ours(scenario="exact", M=m, op="resolve", keys="miss", set="hot")),
            c(ours(scenario="partial", M=m, op="resolve", keys="hit", set="spread")),
            c(ours(scenario="partial", M=m, op="resolve", keys="miss", set="spread")),
            c(dh), c(sh), c(sm), fratio(rh[0], sh[0]), fratio(rm[0], sm[0]),
            fratio(dh[0], sh[0])))
    po = pick(False, part="map", impl="sss", op="parse_only")
    nm = pick(True, part="map", impl="accord", op="names", M=max(ms)) if ms else (None, [])
    w("")
    w("- libsss_certmap with no rules (its certificate parse alone): %s; "
      "accord_certnames_from_x509 of a parsed certificate (M = %s): %s." % (
          c(po), fmtn(max(ms)) if ms else "–", c(nm)))
    setups = [r for r in recs if r["_type"] == "CERTSETUP" and r.get("impl") in ("accord", "sss")
              and r.get("part") != "logon"]
    if setups:
        w("- Setup (round 1): " + "; ".join(
            ("ours %s M=%s: state %s ms + snapshot %s ms, section %s bytes" % (
                r["scenario"], fmtn(int(r["M"])), r["state_ms"], r["snapshot_ms"],
                fmtn(int(r["section_bytes"]))))
            if r["impl"] == "accord" else
            ("libsss_certmap M=%s: %s ms, RSS +%s KiB" % (fmtn(int(r["M"])), r["setup_ms"],
                                                        r["rss_growth_kib"]))
            for r in setups if r.get("round", "1") == "1") + ".")
    w("")

    # targets
    w("| certificate target | limit | ours (worst round) | met? |")
    w("|---|---|---|---|")
    if ms:
        big, small = max(ms), min(ms)
        for scen, keys, st in (("exact", "hit", "spread"), ("exact", "miss", "spread"),
                               ("partial", "hit", "spread"), ("partial", "miss", "spread"),
                               ("exact", "hit", "hot"), ("exact", "miss", "hot"),
                               ("partial", "hit", "hot")):
            b = ours(scenario=scen, M=big, op="resolve", keys=keys, set=st)[0]
            s0 = ours(scenario=scen, M=small, op="resolve", keys=keys, set=st)[0]
            if b is None:
                continue
            if st == "spread":
                w("| resolve, %s %s, M = %s | ≤ %.0f µs | %s | %s |" % (
                    scen, keys, fmtn(big), TARGET_CERTMAP_US, fus(b), yes(b <= TARGET_CERTMAP_US)))
            if s0:
                w("| growth %s %s (%s): M = %s / M = %s | ≤ %.0fx | %.2fx (%s / %s) | %s |" % (
                    scen, keys, st, fmtn(big), fmtn(small), TARGET_CERTMAP_GROWTH, b / s0,
                    fus(b), fus(s0), yes(b / s0 <= TARGET_CERTMAP_GROWTH)))
    tot = pick(True, part="logon", impl="accord", stage="total")
    if tot[0] is not None:
        w("| whole certificate logon (M = %s) | ≤ %s µs | %s | %s |" % (
            fmtn(int(next(r["M"] for r in cr if r.get("stage") == "total"))),
            fmtn(TARGET_CERT_LOGON_US), fus(tot[0]), yes(tot[0] <= TARGET_CERT_LOGON_US)))
    w("")

    # logon breakdown, per round
    lr = [r for r in cr if r.get("part") == "logon"]
    if lr:
        w("### Whole certificate logon, stage by stage (thread CPU time per logon)\n")
        rnds = sorted({r.get("round", "1") for r in lr})
        w("| stage | " + " | ".join("round %s" % x for x in rnds) + " | share (round %s) |" % rnds[-1])
        w("|---|" + "---|" * (len(rnds) + 1))
        stages = ["load", "verify", "names", "resolve", "decide", "free", "total",
                  "verify_only", "d2i_X509", "X509_verify_cert", "thread_cputime"]
        names = {"load": "accord_cert_load (DER parse)", "verify": "accord_trust_verify",
                 "names": "accord_certnames_from_x509", "resolve": "accord_certmap_resolve",
                 "decide": "accord_decide_cert (snapshot + logon record)", "free": "frees",
                 "total": "**total**", "verify_only": "accord_trust_verify alone (own loop)",
                 "d2i_X509": "OpenSSL d2i_X509 alone", "X509_verify_cert":
                 "OpenSSL X509_verify_cert alone", "thread_cputime":
                 "one clock read (7 per logon in the stages)"}
        for stg in stages:
            row = []
            last = None
            for x in rnds:
                v = [float(r["us"]) for r in lr if r.get("stage") == stg and r.get("round", "1") == x]
                row.append(fus(v[0]) if v else "–")
                last = v[0] if v else None
            t = [float(r["us"]) for r in lr if r.get("stage") == "total" and r.get("round", "1") == rnds[-1]]
            share = "%.0f%%" % (100 * last / t[0]) if last is not None and t and stg in (
                "load", "verify", "names", "resolve", "decide", "free") else ""
            w("| %s | %s | %s |" % (names[stg], " | ".join(row), share))
        w("")
    notes = [r for r in recs if r["_type"] == "CERTNOTE"]
    for n in notes:
        w("- note: %s" % " ".join("%s=%s" % (k, v) for k, v in n.items() if not k.startswith("_")))
    if notes:
        w("")


def fms(ms):
    return "%.1f s" % (ms / 1000) if ms >= 10000 else "%.1f ms" % ms


def fmtn(n):
    return "{:,}".format(int(n))


def memory_summary(recs, module):
    m = [r for r in recs if r["_type"] == "MEM" and r["_lab"].get("module") == module]
    if not m:
        return None
    first = next((r for r in m if r["phase"] in ("after_first_lookup", "pass1_after_1")), m[0])
    loaded = next((r for r in m if r["phase"] == "after_dlopen"), m[0])
    last = m[-1]
    n = m[0]["_lab"].get("n")
    snap = next((r for r in recs if r["_type"] == "SNAPSIZE" and r["_lab"].get("n") == n), None)
    return {
        "map_kb": int(first["vmsize_kb"]) - int(loaded["vmsize_kb"]),
        "d_file": int(last["rss_file_kb"]) - int(loaded["rss_file_kb"]),
        "lookups": int(last["lookups"]) - int(first["lookups"]),
        "d_anon": int(last["rss_anon_kb"]) - int(first["rss_anon_kb"]),
        "d_heap": int(last["heap_inuse_b"]) - int(first["heap_inuse_b"]),
        "d_vmsize": int(last["vmsize_kb"]) - int(first["vmsize_kb"]),
        "file_end": int(last["rss_file_kb"]),
        "snap_kb": int(snap["bytes"]) / 1024 if snap else None,
    }


def anchor_mem_text(recs):
    m = memory_summary(recs, "cache")
    if not m:
        return "–"
    return "libnss-cache over %s lookups: RssAnon %+d kB, heap %+d B" % (
        fmtn(m["lookups"]), m["d_anon"], m["d_heap"])


def add_summary(recs, n):
    """{tool: stats} for the registry / file size n"""
    out = {}
    for tool in ("accordctl", "useradd", "useradd-N"):
        rs = [r for r in recs if r["_type"] == "ADD" and r.get("tool") == tool
              and r["_lab"].get("n") == str(n)]
        if not rs:
            continue
        ok = sorted(float(r["ms"]) for r in rs if r["rc"] == "0")
        rounds = {}
        for r in rs:
            if r["rc"] == "0":
                rounds.setdefault(r["_lab"].get("round"), []).append(float(r["ms"]))
        if not ok:
            out[tool] = {"calls": len(rs), "fail": len(rs), "min": 0, "p50": 0, "p90": 0,
                         "max": 0, "n": int(rs[0]["_lab"].get("n", 0))}
            continue
        out[tool] = {
            "calls": len(rs), "fail": len(rs) - len(ok), "n": int(rs[0]["_lab"].get("n", 0)),
            "min": ok[0], "max": ok[-1], "p50": statistics.median(ok),
            "p90": ok[min(len(ok) - 1, int(round(0.9 * (len(ok) - 1))))], "rounds": rounds,
            "cpu_p50": statistics.median(float(r["user_ms"]) + float(r["sys_ms"]) for r in rs
                                         if r["rc"] == "0") if all("user_ms" in r for r in rs)
            else None,
        }
    return out


if __name__ == "__main__":
    main()
