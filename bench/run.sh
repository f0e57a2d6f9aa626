#!/usr/bin/env bash
# bench/run.sh - accord performance benchmarks, measured beside the anchors
# (glibc files, libnss-cache, libnss-extrausers, useradd) in the same run.
#
# usage: sudo bench/run.sh [N ...]    default N: $NLIST or 1000 100000 1000000
#
# What it measures (see docs/BENCHMARKS.md for the method and the results):
#   lookup      getpwnam_r / getpwuid_r / initgroups p50, hits and misses, for
#               N users (nssbench gen): libnss_accord.so.2 called directly
#               and through glibc, glibc files, libnss-cache and (N <=
#               EXTRA_MAX_N) libnss-extrausers; plus the timed
#               `accordctl import` of the N users into a fresh registry.
#   initgroups  a user in IG_PER_USER groups among IG_GROUPS groups
#               (bench/gen_groups.py): ours vs libnss-cache and glibc files.
#   memory      bench/rssbench.c: VmRSS/RssAnon/RssFile/heap before and
#               after MEM_LOOKUPS lookups (twice) on the MEM_N snapshot.
#   pam         bench/pambench.c: pam_acct_mgmt() of pam_accord.so (status +
#               application check) at PAM_USERS users and PAM_APPLS
#               applications, beside pam_access.so over the same grants,
#               both through real libpam in one process (PAM_ROUNDS runs)
#   pt          bench/ptbench.c: PassTicket validations per second on one
#               core, legacy and enhanced (UPPER, MIXED): decode + window
#               check beside a scan of the 1,201 candidates, PT_ROUNDS runs
#               of PT_TIME s per measurement
#   cert        bench/certbench.c: accord_certmap_resolve() of a parsed
#               certificate at CERT_MAPS DN-filter maps (a real snapshot),
#               beside libsss_certmap with CERT_SSS rules; the whole
#               certificate logon (parse, chain verification, mapping,
#               profile status) beside OpenSSL's d2i_X509 +
#               X509_verify_cert; CERT_ROUNDS runs
#   storage     `accordctl storage scan` of ST_FILES files beside `find PATH
#               -printf '%U %G\n'` (same tree, warm, alternating), and
#               `storage attach --apply` with nothing to change at ST_OWNERS
#               profiles in the manifest
#   useradd     ADD_CALLS x `accordctl user add` on an ADD_N-user registry
#               (each call syncs the local snapshot), ROUNDS times, vs
#               ADD_CALLS x `useradd -N` and USERADD_CALLS x `useradd` on an
#               overlay /etc holding ADD_N users.
#
# Environment (defaults in brackets):
#   PARTS="lookup initgroups memory useradd pam pt cert storage"
#   RUNS [5] TIME [2] COUNT [20000]  nssbench runs / s per run / lookups per run
#   BIG_N [1000000] BIG_RUNS [3] BIG_TIME [1]  anchors at N >= BIG_N
#   ROUNDS [2]        ours is measured ROUNDS times per N (before and after
#                     the anchors); the tables use the lowest p50
#   EXTRA_MAX_N [100000]  run libnss-extrausers only up to this N
#   ANCHORS ["files cache extrausers cdb"]  (cdb: nss_anchor.sh's "cdb-sim",
#                     the read path of a tinycdb file, no NSS: same-run
#                     evidence of what a large mapping costs by itself)
#   IG_GROUPS [100000] IG_USERS [10000] IG_PER_USER [10]
#   MEM_N [largest N] MEM_LOOKUPS [1000000]
#   MEM_ANCHOR_LOOKUPS [100000]  the same driver on libnss-cache (0: skip)
#   PAM_USERS [100000] PAM_APPLS [10000] PAM_CALLS [2000] PAM_ROUNDS [2]
#                     (pam_access costs ~50 ms a call at 100,000 users)
#   PT_TIME [2] PT_ROUNDS [2]  ptbench seconds per measurement, runs
#   CERT_MAPS [10,1000,10000,100000] CERT_SSS [10,1000,10000]  map / rule
#                     counts; CERT_K [10000] certificates per set;
#                     CERT_TIME [0.3] s per sample, CERT_REPS [5] samples
#                     (median), CERT_ROUNDS [2] runs of the whole certbench
#   ADD_N [100000] ADD_CALLS [20]  accordctl user add calls per round, and
#                     `useradd -N` calls (no user private group) once
#   ADD_SCALE_CALLS [5]  accordctl user add calls on the other N's registries
#                     (how the cost of one add grows with the registry)
#   USERADD_CALLS [2] plain `useradd` calls (with a user private group, as
#                     accordctl does); quadratic in shadow 4.13: 30-45 s each
#                     at 100,000 users on this machine
#   OUT [bench/results/YYYYmmdd-HHMMSS]   results.txt, results.md, logs
#   ST_FILES [1000000] ST_UIDS [1000]  storage part: files of the scan tree
#                     and the UIDs owning them; ST_OWNERS [100000] profiles
#                     (and files) for the attach with nothing to change
#   BUILD [build-bench]   meson build dir (release), relative to the top
#   KEEP=1            keep the temp dir (data, registries)
#
# Needs root: apt-get (anchor packages), unshare -m and overlay mounts.  The
# real /etc, /var/lib/extrausers, /var/log and /var/mail are never written:
# every anchor runs in a private mount namespace in which those directories
# are overlays whose upper layers live in the temp dir (as in
# ../shared/anchors/nss_anchor.sh).  Our module reads the snapshot named by
# ACCORD_SNAPSHOT; accordctl gets a private accord.conf via ACCORD_CONF.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(git -C "$HERE" rev-parse --show-toplevel)
ANCH_DIR=${ANCH_DIR:-$TOP/../shared/anchors}
ANCH_DIR=$(cd "$ANCH_DIR" && pwd)

NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(${NLIST:-1000 100000 1000000})
PARTS=${PARTS:-"lookup initgroups memory useradd pam pt cert storage"}
ST_FILES=${ST_FILES:-1000000}
ST_UIDS=${ST_UIDS:-1000}
ST_OWNERS=${ST_OWNERS:-100000}
PT_TIME=${PT_TIME:-2}
PT_ROUNDS=${PT_ROUNDS:-2}
CERT_MAPS=${CERT_MAPS:-10,1000,10000,100000}
CERT_SSS=${CERT_SSS:-10,1000,10000}
CERT_K=${CERT_K:-10000}
CERT_TIME=${CERT_TIME:-0.3}
CERT_REPS=${CERT_REPS:-5}
CERT_ROUNDS=${CERT_ROUNDS:-2}
PAM_USERS=${PAM_USERS:-100000}
PAM_APPLS=${PAM_APPLS:-10000}
PAM_CALLS=${PAM_CALLS:-2000}
PAM_ROUNDS=${PAM_ROUNDS:-2}
RUNS=${RUNS:-5}
TIME=${TIME:-2}
COUNT=${COUNT:-20000}
BIG_N=${BIG_N:-1000000}
BIG_RUNS=${BIG_RUNS:-3}
BIG_TIME=${BIG_TIME:-1}
ROUNDS=${ROUNDS:-2}
EXTRA_MAX_N=${EXTRA_MAX_N:-100000}
ANCHORS=${ANCHORS:-"files cache extrausers cdb"}
IG_GROUPS=${IG_GROUPS:-100000}
IG_USERS=${IG_USERS:-10000}
IG_PER_USER=${IG_PER_USER:-10}
MEM_N=${MEM_N:-$(printf '%s\n' "${NS[@]}" | sort -n | tail -1)}
MEM_LOOKUPS=${MEM_LOOKUPS:-1000000}
MEM_ANCHOR_LOOKUPS=${MEM_ANCHOR_LOOKUPS:-100000}
ADD_N=${ADD_N:-100000}
ADD_CALLS=${ADD_CALLS:-20}
USERADD_CALLS=${USERADD_CALLS:-2}
ADD_SCALE_CALLS=${ADD_SCALE_CALLS:-5}
BUILD=${BUILD:-build-bench}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
OUT=${OUT:-$HERE/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RES=$OUT/results.txt
LOG=$OUT/run.log
: > "$RES"
: > "$LOG"

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
say() { echo "== $*" >&2; echo "== $(date +%T) $*" >> "$LOG"; }
load() { # LOAD line: where we are and the load average right now
  read -r l1 l5 l15 _ < /proc/loadavg
  echo "LOAD at=$1 time=$(date +%T) load1=$l1 load5=$l5 load15=$l15" | tee -a "$RES" >&2
}
die() { echo "run.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (apt-get, unshare -m, overlay mounts)"

WORK=$(mktemp -d /tmp/accord-bench.XXXXXX)
cleanup() {
  [ "${KEEP:-0}" = 1 ] && { echo "kept $WORK" >&2; return; }
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # so that the EXIT trap removes the temp dir
T0=$(date +%s)

# --- packages -----------------------------------------------------------------
need=()
for p in libnss-cache libnss-extrausers libnss-wrapper libcdb-dev gcc libc6-dev python3 \
         time meson ninja-build pkg-config libjson-c-dev libcmocka-dev passwd \
         libpam0g-dev libcrypt-dev libpam-modules libssl-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# the cert part's anchor: libsss_certmap (SSSD 2.8 on Debian 12)
if part cert; then
  for p in libsss-certmap-dev libtalloc-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$LOG" 2>&1
fi
CACHE_SO=$(dpkg -L libnss-cache | grep '/libnss_cache\.so\.2$' | head -1)
EXTRA_SO=$(dpkg -L libnss-extrausers | grep '/libnss_extrausers\.so\.2$' | grep -v lib32 | head -1)
LIBC_SO=$(ldconfig -p | awk '/libc\.so\.6 .*x86-64|libc\.so\.6 .*AArch64/ {if (!p) p = $NF} END {print p}')
[ -n "$LIBC_SO" ] || LIBC_SO=libc.so.6

# --- build --------------------------------------------------------------------
say "building accord (release) in $BUILD"
# werror=false: -O3 brings out warnings (e.g. -Wmaybe-uninitialized) that the
# default debug build does not show; a benchmark must not fail on those.
if [ -f "$BUILD/build.ninja" ]; then
  meson configure "$BUILD" -Dbuildtype=release -Dwerror=false >>"$LOG" 2>&1 ||
    die "meson configure failed (see $LOG)"
else
  rm -rf "$BUILD"
  meson setup "$BUILD" "$TOP" --buildtype=release -Dwerror=false >>"$LOG" 2>&1 ||
    die "meson setup failed (see $LOG)"
fi
# only what the benchmark runs (the tests are not needed here)
MOD=$BUILD/nss_module/libnss_accord.so.2
CTL=$BUILD/cli/accordctl
PAMMOD=$BUILD/pam_module/pam_accord.so
PAMBENCH=$BUILD/bench/pambench
PTBENCH=$BUILD/bench/ptbench
ninja -C "$BUILD" nss_module/libnss_accord.so.2 cli/accordctl pam_module/pam_accord.so \
  bench/pambench bench/ptbench >>"$LOG" 2>&1 || die "ninja failed (see $LOG)"
[ -f "$MOD" ] && [ -x "$CTL" ] || die "build did not produce $MOD and $CTL"
B=$WORK/nssbench
if [ -f /usr/include/cdb.h ]; then
  cc -O2 -Wall -DHAVE_CDB -o "$B" "$ANCH_DIR/nssbench.c" -ldl -lcdb
else
  cc -O2 -Wall -o "$B" "$ANCH_DIR/nssbench.c" -ldl
  ANCHORS=${ANCHORS//cdb/}
fi
cc -O2 -Wall -o "$WORK/rssbench" "$HERE/rssbench.c" -ldl
cc -O2 -Wall -o "$WORK/keycost" "$HERE/keycost.c"

# --- machine --------------------------------------------------------------------
{
  echo "MACHINE date=$(date -u +%Y-%m-%dT%H:%M:%SZ) nproc=$(nproc) kernel=$(uname -r)" \
       "glibc=$(ldd --version | head -1 | awk '{print $NF}')" \
       "cpu=$(awk -F': ' '/^model name/ {gsub(/ +/, "_", $2); print $2; exit}' /proc/cpuinfo)" \
       "mem_mb=$(awk '/^MemTotal/ {print int($2/1024)}' /proc/meminfo)" \
       "commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo none)" \
       "dirty=$(git -C "$TOP" status --porcelain 2>/dev/null | wc -l)"
  echo "CONFIG ns=$(IFS=,; echo "${NS[*]}") parts=${PARTS// /,} runs=$RUNS time=$TIME" \
       "count=$COUNT big_n=$BIG_N big_runs=$BIG_RUNS big_time=$BIG_TIME rounds=$ROUNDS" \
       "extra_max_n=$EXTRA_MAX_N anchors=${ANCHORS// /,} ig_groups=$IG_GROUPS ig_users=$IG_USERS" \
       "ig_per_user=$IG_PER_USER mem_n=$MEM_N mem_lookups=$MEM_LOOKUPS" \
       "mem_anchor_lookups=$MEM_ANCHOR_LOOKUPS add_n=$ADD_N" \
       "add_calls=$ADD_CALLS add_scale_calls=$ADD_SCALE_CALLS useradd_calls=$USERADD_CALLS" \
       "pt_time=$PT_TIME pt_rounds=$PT_ROUNDS"
} | tee -a "$RES" >&2
load start
"$B" syscost /etc/passwd | tee -a "$RES" >&2
"$WORK/keycost" | tee -a "$RES" >&2   # nssbench's own per-lookup cost (key choice)

# --- helpers --------------------------------------------------------------------
# params N -> "-r R -t T -n C" (anchors at N >= BIG_N get BIG_RUNS/BIG_TIME)
params() {
  if [ "$1" -ge "$BIG_N" ]; then echo "-r $BIG_RUNS -t $BIG_TIME -n $COUNT"
  else echo "-r $RUNS -t $TIME -n $COUNT"; fi
}
# bench LABEL nssbench-args...: RESULT lines (+ load1) to results.txt
bench() {
  local label=$1; shift
  "$B" bench -l "$label" "$@" 2>>"$OUT/runs.log" |
    while read -r line; do
      read -r l1 _ < /proc/loadavg
      echo "$line load1=$l1"
    done | tee -a "$RES" >&2
}
export B OUT RES

# write_conf DIR: accord.conf for a registry in DIR/reg, snapshot DIR/snap/snapshot
write_conf() {
  mkdir -p "$1/snap"
  printf 'registry = %s\nsnapshot = %s\n' "$1/reg" "$1/snap/snapshot" > "$1/accord.conf"
  chmod 644 "$1/accord.conf"
}

# import_registry DIR PASSWD GROUP LABEL: fresh registry, timed import
import_registry() {
  local dir=$1 pw=$2 gr=$3 label=$4 t0 t1 rc=0
  write_conf "$dir"
  ACCORD_CONF=$dir/accord.conf "$CTL" init --uid-range 100000-2000000 \
    --gid-range 100000-2000000 >>"$LOG" 2>&1 || die "accordctl init failed (see $LOG)"
  t0=$(date +%s%N)
  ACCORD_CONF=$dir/accord.conf /usr/bin/time -f "maxrss_kb=%M" -o "$dir/time.txt" \
    "$CTL" import --passwd "$pw" --group "$gr" >>"$LOG" 2>&1 || rc=$?
  t1=$(date +%s%N)
  echo "IMPORT label=$label users=$(wc -l < "$pw") groups=$(wc -l < "$gr") rc=$rc" \
       "wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')" \
       "$(tail -1 "$dir/time.txt")" \
       "snapshot_bytes=$(stat -c %s "$dir/snap/snapshot" 2>/dev/null || echo 0)" \
       "registry_bytes=$(du -sb "$dir/reg" | cut -f1)" | tee -a "$RES" >&2
  [ "$rc" = 0 ] || die "accordctl import failed rc=$rc (see $LOG)"
  [ -s "$dir/snap/snapshot" ] || die "import did not install $dir/snap/snapshot"
}

# ours LABELBASE N SNAPSHOT NAMES OPS MISSOPS: direct and through glibc
ours() {
  local base=$1 n=$2 snap=$3 names=$4 ops=$5 missops=$6
  # ours is cheap: always the full RUNS/TIME/COUNT
  local p="-r $RUNS -t $TIME -n $COUNT"
  ACCORD_SNAPSHOT=$snap bench "$base,keys=hit" $p -m "$MOD" -p accord -o "$ops" "$names"
  ACCORD_SNAPSHOT=$snap LD_LIBRARY_PATH=$BUILD/nss_module \
    bench "$base,keys=hit" $p -s accord -o "$ops" "$names"
  if [ -n "$missops" ]; then
    ACCORD_SNAPSHOT=$snap bench "$base,keys=miss" $p -m "$MOD" -p accord -o "$missops" -x 1 "$names"
    ACCORD_SNAPSHOT=$snap LD_LIBRARY_PATH=$BUILD/nss_module \
      bench "$base,keys=miss" $p -s accord -o "$missops" -x 1 "$names"
  fi
}

# in_ns SCRIPT: run bash SCRIPT in a private mount namespace whose /etc,
# /var/lib/extrausers, /var/log and /var/mail are overlays (upper layers in
# $WORK/ns); exported variables are visible to SCRIPT.
in_ns() {
  local NSD=$WORK/ns
  rm -rf "$NSD"
  mkdir -p "$NSD"
  export NSD
  unshare -m --propagation private bash -euo pipefail -c '
    ov() { # overlay over directory $1 (created empty in the upper layer if missing)
      local d=$1 k=${1//\//_} lower=$1
      mkdir -p "$NSD/$k.up" "$NSD/$k.wk" "$NSD/$k.lo"
      [ -d "$d" ] || { lower=$NSD/$k.lo; mkdir -p "$d" 2>/dev/null || return 0; }
      mount -t overlay overlay -o lowerdir=$lower,upperdir=$NSD/$k.up,workdir=$NSD/$k.wk "$d"
    }
    ov /etc; ov /var/lib/extrausers; ov /var/log; ov /var/mail
    bench() { local label=$1; shift
      "$B" bench -l "$label" "$@" 2>>"$OUT/runs.log" |
        while read -r line; do read -r l1 _ < /proc/loadavg; echo "$line load1=$l1"; done |
        tee -a "$RES" >&2; }
    '"$1"
  rm -rf "$NSD"
}

# anchors_lookup N DATA: files / cache / extrausers on N users
anchors_lookup() {
  local n=$1 d=$2 s
  export AN=$n AD=$d AP="$(params "$n")" CACHE_SO EXTRA_SO LIBC_SO
  for s in $ANCHORS; do
    if [ "$s" = extrausers ] && [ "$n" -gt "$EXTRA_MAX_N" ]; then continue; fi
    say "anchor $s N=$n"
    if [ "$s" = cdb ]; then # no NSS, no namespace needed
      "$B" cdbgen "$d"
      bench "part=lookup,n=$n,keys=hit" $AP -c "$d/passwd.cdb" -o pwnam,pwuid "$d/names"
      bench "part=lookup,n=$n,keys=miss" $AP -c "$d/passwd.cdb" -o pwnam,pwuid -x 1 "$d/names"
      bench "part=lookup,n=$n,keys=hit" $AP -c "$d/passwd.cdb" -I 1000000 -o pwnam,pwuid "$d/names"
      bench "part=lookup,n=$n,keys=miss" $AP -c "$d/passwd.cdb" -I 1000000 -o pwnam,pwuid -x 1 "$d/names"
      rm -f "$d/passwd.cdb"
      continue
    fi
    export AS=$s
    in_ns '
      base="part=lookup,n=$AN"
      case $AS in
        files)
          cat /etc/passwd "$AD/passwd" > /etc/passwd.new && mv /etc/passwd.new /etc/passwd
          cat /etc/group "$AD/group" > /etc/group.new && mv /etc/group.new /etc/group
          so=$LIBC_SO; dops=pwnam,pwuid,initgroups ;;
        extrausers)
          cp "$AD/passwd" "$AD/group" /var/lib/extrausers/
          so=$EXTRA_SO; dops=pwnam,pwuid ;;
        cache)
          cp "$AD/passwd" /etc/passwd.cache; cp "$AD/group" /etc/group.cache
          for x in passwd.ixname passwd.ixuid group.ixname group.ixgid; do
            cp "$AD/$x" "/etc/${x%%.*}.cache.${x#*.}"; done
          touch /etc/passwd.cache.ix* /etc/group.cache.ix*
          so=$CACHE_SO; dops=pwnam,pwuid ;;
      esac
      bench "$base,keys=hit" $AP -s "$AS" -o pwnam,pwuid,initgroups "$AD/names"
      bench "$base,keys=miss" $AP -s "$AS" -o pwnam,pwuid -x 1 "$AD/names"
      bench "$base,keys=hit" $AP -m "$so" -p "$AS" -o "$dops" "$AD/names"
    ' || echo "warn: anchor $s at N=$n failed" | tee -a "$RES" >&2
  done
}

# time_adds REGDIR N ROUND CALLS: CALLS x `accordctl user add`, one ADD line each
time_adds() {
  local dir=$1 n=$2 round=$3 calls=$4 i name t0 t1 rc last cu cs
  load "useradd,tool=accordctl,n=$n,round=$round"
  for ((i = 0; i < calls; i++)); do
    name=$(printf 'add%d%03d' "$round" "$i")
    t0=$(date +%s%N)
    rc=0
    # bash's time keyword: the child's user and system CPU, no extra exec
    { TIMEFORMAT='%3U %3S'; time ACCORD_CONF=$dir/accord.conf "$CTL" user add "$name" \
        >>"$LOG" 2>&1; } 2> "$WORK/cpu.txt" || rc=$?
    t1=$(date +%s%N)
    read -r cu cs < "$WORK/cpu.txt" || true
    echo "ADD label=part=useradd,n=$n,round=$round tool=accordctl call=$i rc=$rc" \
         "ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e6}')" \
         "user_ms=$(awk -v x="${cu:-0}" 'BEGIN {printf "%.0f", x * 1000}')" \
         "sys_ms=$(awk -v x="${cs:-0}" 'BEGIN {printf "%.0f", x * 1000}')" | tee -a "$RES" >&2
  done
  # the last new user must be visible through glibc + our module at once:
  # every write installs the local snapshot
  last=$(ACCORD_SNAPSHOT=$dir/snap/snapshot LD_LIBRARY_PATH=$BUILD/nss_module \
         getent -s accord passwd "$name" | cut -d: -f1,3 || true)
  echo "ADDCHECK label=part=useradd,n=$n,round=$round tool=accordctl last=${last:-MISSING}" \
       "snapshot_bytes=$(stat -c %s "$dir/snap/snapshot")" | tee -a "$RES" >&2
}

# --- (a) lookups + (e) import -------------------------------------------------------
ADD_DIR=
for N in "${NS[@]}"; do
  part lookup || part memory || { [ "$N" = "$ADD_N" ] && part useradd; } || continue
  D=$WORK/data/$N
  mkdir -p "$D"
  say "N=$N: generating"
  t0=$(date +%s%N)
  "$B" gen "$N" "$D"
  t1=$(date +%s%N)
  echo "GEN label=n=$N users=$N wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')" \
    "passwd_bytes=$(stat -c %s "$D/passwd") group_bytes=$(stat -c %s "$D/group")" | tee -a "$RES" >&2
  R=$WORK/reg-$N
  say "N=$N: accordctl import"
  load "import,n=$N"
  import_registry "$R" "$D/passwd" "$D/group" "n=$N"
  SNAP=$R/snap/snapshot
  # memory floor: one random read in a mapping of this snapshot's size
  "$WORK/keycost" -m "$SNAP" | sed "s/^MEMLAT /MEMLAT label=n=$N /" | tee -a "$RES" >&2
  if part lookup; then
    for ((round = 1; round <= ROUNDS; round++)); do
      if [ "$round" = 2 ]; then anchors_lookup "$N" "$D"; fi
      say "N=$N: ours, round $round"
      load "lookup,n=$N,round=$round"
      ours "part=lookup,n=$N,round=$round" "$N" "$SNAP" "$D/names" \
        pwnam,pwuid,initgroups pwnam,pwuid
    done
    [ "$ROUNDS" -ge 2 ] || anchors_lookup "$N" "$D"
  fi
  if part memory && [ "$N" = "$MEM_N" ]; then
    say "N=$N: memory"
    load "memory,n=$N"
    ACCORD_SNAPSHOT=$SNAP "$WORK/rssbench" -m "$MOD" -p accord -n "$MEM_LOOKUPS" \
      -l "part=memory,n=$N,module=accord" "$D/names" | tee -a "$RES" >&2 ||
      echo "warn: rssbench reported errors" | tee -a "$RES" >&2
    echo "SNAPSIZE label=n=$N bytes=$(stat -c %s "$SNAP")" | tee -a "$RES" >&2
    if [ "$MEM_ANCHOR_LOOKUPS" -gt 0 ] && [[ " $ANCHORS " == *" cache "* ]]; then
      say "N=$N: memory, libnss-cache anchor"
      export AD=$D MEM_ANCHOR_LOOKUPS CACHE_SO RSSB=$WORK/rssbench AN=$N
      in_ns '
        cp "$AD/passwd" /etc/passwd.cache; cp "$AD/group" /etc/group.cache
        for x in passwd.ixname passwd.ixuid group.ixname group.ixgid; do
          cp "$AD/$x" "/etc/${x%%.*}.cache.${x#*.}"; done
        touch /etc/passwd.cache.ix* /etc/group.cache.ix*
        "$RSSB" -m "$CACHE_SO" -p cache -n "$MEM_ANCHOR_LOOKUPS" \
          -l "part=memory,n=$AN,module=cache" "$AD/names" | tee -a "$RES" >&2
      ' || echo "warn: rssbench on libnss-cache failed" | tee -a "$RES" >&2
    fi
  fi
  if part useradd && [ "$N" != "$ADD_N" ] && [ "$ADD_SCALE_CALLS" -gt 0 ]; then
    say "N=$N: accordctl user add x $ADD_SCALE_CALLS (scaling)"
    time_adds "$R" "$N" 1 "$ADD_SCALE_CALLS"
  fi
  if [ "$N" = "$ADD_N" ] && part useradd; then
    ADD_DIR=$R; ADD_DATA=$D
  else
    rm -rf "$R" "$D"
  fi
done

# --- (b) initgroups -----------------------------------------------------------------
if part initgroups; then
  IG=$WORK/ig
  say "initgroups: generating $IG_GROUPS groups, $IG_USERS users x $IG_PER_USER groups"
  python3 "$HERE/gen_groups.py" --groups "$IG_GROUPS" --users "$IG_USERS" \
    --per-user "$IG_PER_USER" "$IG/data"
  load "initgroups,import"
  import_registry "$IG/r" "$IG/data/passwd" "$IG/data/group" "initgroups"
  base="part=initgroups,groups=$IG_GROUPS,per_user=$IG_PER_USER"
  for ((round = 1; round <= ROUNDS; round++)); do
    if [ "$round" = 2 ] || [ "$ROUNDS" = 1 ]; then
      export AD=$IG/data AP="-r $RUNS -t $TIME -n $COUNT" IGBASE=$base CACHE_SO LIBC_SO
      for s in $ANCHORS; do
        case $s in files|cache) ;; *) continue ;; esac
        say "initgroups anchor $s"
        export AS=$s
        in_ns '
          case $AS in
            files)
              cat /etc/passwd "$AD/passwd" > /etc/passwd.new && mv /etc/passwd.new /etc/passwd
              cat /etc/group "$AD/group" > /etc/group.new && mv /etc/group.new /etc/group
              bench "$IGBASE,keys=hit" $AP -s files -o initgroups "$AD/names"
              bench "$IGBASE,keys=hit" $AP -m "$LIBC_SO" -p files -o initgroups "$AD/names" ;;
            cache)
              cp "$AD"/passwd.cache* "$AD"/group.cache* /etc/
              touch /etc/passwd.cache.ix* /etc/group.cache.ix*
              bench "$IGBASE,keys=hit" $AP -s cache -o initgroups "$AD/names" ;;
          esac
        ' || echo "warn: initgroups anchor $s failed" | tee -a "$RES" >&2
      done
    fi
    say "initgroups: ours, round $round"
    load "initgroups,round=$round"
    ours "$base,round=$round" 0 "$IG/r/snap/snapshot" "$IG/data/names" initgroups initgroups
  done
  rm -rf "$IG"
fi

# --- (d) user add -------------------------------------------------------------------
if part useradd; then
  if [ -z "$ADD_DIR" ]; then
    say "useradd: generating and importing $ADD_N users"
    ADD_DATA=$WORK/data/$ADD_N
    mkdir -p "$ADD_DATA"
    "$B" gen "$ADD_N" "$ADD_DATA"
    ADD_DIR=$WORK/reg-$ADD_N
    import_registry "$ADD_DIR" "$ADD_DATA/passwd" "$ADD_DATA/group" "n=$ADD_N"
  fi
  ours_add() { # ROUND
    say "useradd: accordctl user add x $ADD_CALLS on $ADD_N users, round $1"
    time_adds "$ADD_DIR" "$ADD_N" "$1" "$ADD_CALLS"
  }
  ours_add 1
  say "useradd: useradd -N x $ADD_CALLS, useradd x $USERADD_CALLS on an overlay /etc with $ADD_N users"
  load "useradd,tool=useradd"
  export AD=$ADD_DATA ADD_CALLS USERADD_CALLS ADD_N
  in_ns '
    cat /etc/passwd "$AD/passwd" > /etc/passwd.new && mv /etc/passwd.new /etc/passwd
    cat /etc/group "$AD/group" > /etc/group.new && mv /etc/group.new /etc/group
    { cat /etc/shadow; awk -F: "{print \$1 \":*:19700:0:99999:7:::\"}" "$AD/passwd"; } > /etc/shadow.new
    { cat /etc/gshadow; awk -F: "{print \$1 \":!::\" \$4}" "$AD/group"; } > /etc/gshadow.new
    chmod 640 /etc/shadow.new /etc/gshadow.new; chgrp shadow /etc/shadow.new /etc/gshadow.new || true
    mv /etc/shadow.new /etc/shadow; mv /etc/gshadow.new /etc/gshadow
    # tool=useradd-N: no user private group (primary group "users"), the
    # cheaper path; tool=useradd: the default, which creates a user private
    # group as accordctl user add does
    for tool in useradd-N useradd; do
      if [ $tool = useradd ]; then calls=$USERADD_CALLS; opt=; else calls=$ADD_CALLS; opt=-N; fi
      for ((i = 0; i < calls; i++)); do
        name=$(printf "ua%s%03d" "${opt:+n}" "$i")
        t0=$(date +%s%N)
        rc=0; useradd -l -M $opt -s /bin/sh "$name" >/dev/null 2>&1 || rc=$?
        t1=$(date +%s%N)
        echo "ADD label=part=useradd,n=$ADD_N,round=1 tool=$tool call=$i rc=$rc" \
             "ms=$(awk -v a="$t0" -v b="$t1" "BEGIN {printf \"%.2f\", (b - a) / 1e6}")" | tee -a "$RES" >&2
      done
      last=$(getent -s files passwd "$name" | cut -d: -f1,3 || true)
      echo "ADDCHECK label=part=useradd,n=$ADD_N,round=1 tool=$tool last=${last:-MISSING}" \
           "passwd_lines=$(wc -l < /etc/passwd) group_lines=$(wc -l < /etc/group)" | tee -a "$RES" >&2
    done
  ' || echo "warn: useradd anchor failed" | tee -a "$RES" >&2
  for ((round = 2; round <= ROUNDS; round++)); do ours_add "$round"; done
fi

# --- (e) PAM account phase ------------------------------------------------------
if part pam; then
  PAM_ACCESS_SO=$(dpkg -L libpam-modules | grep '/security/pam_access\.so$' | head -1)
  [ -n "$PAM_ACCESS_SO" ] || die "pam_access.so not found (libpam-modules)"
  for ((round = 1; round <= PAM_ROUNDS; round++)); do
    say "pam: account phase, $PAM_USERS users, $PAM_APPLS applications, round $round"
    load "pam,round=$round"
    PD=$WORK/pam-$round
    mkdir -p "$PD"
    # pam_access resolves users and groups through NSS: glibc with our NSS
    # module over the same snapshot (nsswitch.conf "files accord" in a
    # private mount namespace whose /etc is an overlay), so both modules see
    # the same identities, and glibc's getgrouplist() uses our initgroups.
    export PD MOD PAMBENCH PAMMOD PAM_ACCESS_SO PAM_USERS PAM_APPLS PAM_CALLS round LOG
    in_ns '
      printf "passwd: files accord\ngroup: files accord\nshadow: files\n" > /etc/nsswitch.conf
      LD_LIBRARY_PATH=$(dirname "$MOD") ACCORD_SNAPSHOT=$PD/snapshot \
        "$PAMBENCH" "$PD" "$PAMMOD" "$PAM_ACCESS_SO" "$PAM_USERS" "$PAM_APPLS" "$PAM_CALLS" 2>>"$LOG" |
        sed "s/^PAM /PAM round=$round /" | tee -a "$RES" >&2
    ' || echo "warn: pambench round $round failed (see $LOG)" | tee -a "$RES" >&2
    rm -rf "$PD"
  done
fi

# --- (f) PassTicket validation ------------------------------------------------------
if part pt; then
  for ((round = 1; round <= PT_ROUNDS; round++)); do
    say "pt: PassTicket validation (invert vs scan), round $round"
    load "pt,round=$round"
    PTD=$WORK/pt-$round   # the replay cache on this disk (the temp dir's)
    mkdir -p "$PTD"
    "$PTBENCH" "$PT_TIME" all "$PTD" 2>>"$LOG" | grep '^PT ' |
      sed "s/^PT /PT round=$round /" | tee -a "$RES" >&2 ||
      echo "warn: ptbench round $round failed (see $LOG)" | tee -a "$RES" >&2
    rm -rf "$PTD"
  done
fi

# --- (g) certificate mapping and logon ----------------------------------------------
if part cert; then
  CERTBENCH=$BUILD/bench/certbench
  ninja -C "$BUILD" bench/certbench >>"$LOG" 2>&1 || die "ninja bench/certbench failed (see $LOG)"
  echo "CERTCONF maps=$CERT_MAPS sss=$CERT_SSS k=$CERT_K time=$CERT_TIME reps=$CERT_REPS" \
       "rounds=$CERT_ROUNDS" | tee -a "$RES" >&2
  for ((round = 1; round <= CERT_ROUNDS; round++)); do
    say "cert: mapping (M = $CERT_MAPS) beside libsss_certmap (M = $CERT_SSS), whole logon, round $round"
    load "cert,round=$round"
    CD=$WORK/cert-$round   # the logon part's secrets store
    mkdir -p "$CD"
    # exit status 1: a wrong answer somewhere (errors= on the lines)
    "$CERTBENCH" -t "$CERT_TIME" -r "$CERT_REPS" -k "$CERT_K" -m "$CERT_MAPS" \
      -s "$CERT_SSS" -w "$CD" 2>>"$LOG" | grep '^CERT' |
      sed -E "s/^(CERT[A-Z]*) /\1 round=$round /" | tee -a "$RES" >&2 ||
      echo "warn: certbench round $round failed or gave wrong answers (see $LOG)" | tee -a "$RES" >&2
    rm -rf "$CD"
  done
fi

# --- (h) storage: scan beside find, attach with nothing to change -------------------
if part storage; then
  # ST_FILES empty files over 1000 directories, owned by ST_UIDS uids; the
  # scan is timed beside `find -printf '%U %G\n'` (both warm, alternating,
  # ROUNDS each).  Then a registry of ST_OWNERS profiles (import) and a
  # tree with one file per profile: `storage attach --apply` with nothing
  # to change (manifest of ST_OWNERS users + ST_OWNERS groups).
  SD=$WORK/storage
  mkdir -p "$SD"
  say "storage: making $ST_FILES files"
  python3 - "$SD/tree" "$ST_FILES" "$ST_UIDS" <<'PYEOF'
import os, sys
root, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(1000):
    os.makedirs(os.path.join(root, "d%03d" % d), exist_ok=True)
for i in range(n):
    p = os.path.join(root, "d%03d" % (i % 1000), "f%d" % i)
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
    os.chown(p, 100000 + i % k, 100000 + i % k)
PYEOF
  printf 'registry = %s\nsnapshot = %s\n' "$SD/reg" "$SD/snap" > "$SD/accord.conf"
  export ACCORD_CONF=$SD/accord.conf
  "$CTL" init --uid-range 100000-400000 --gid-range 100000-400000 >>"$LOG" 2>&1
  "$CTL" storage register "$SD/tree" --name bench >>"$LOG" 2>&1 || die "storage register failed"
  find "$SD/tree" -printf '%U %G\n' > /dev/null
  for round in $(seq 1 "$ROUNDS"); do
    s=$(date +%s.%N); find "$SD/tree" -printf '%U %G\n' > /dev/null; e=$(date +%s.%N)
    f=$(echo "$e - $s" | bc -l)
    s=$(date +%s.%N); "$CTL" storage scan bench >>"$LOG" 2>&1; e=$(date +%s.%N)
    o=$(echo "$e - $s" | bc -l)
    echo "STORAGE_SCAN round=$round files=$ST_FILES find_s=$f scan_s=$o ratio=$(echo "$o / $f" | bc -l | cut -c1-5)" | tee -a "$RES" >&2
  done
  rm -rf "$SD/tree"
  say "storage: attach with nothing to change, $ST_OWNERS profiles"
  python3 - "$SD/passwd" "$SD/tree2" "$ST_OWNERS" "$SD/group" <<'PYEOF'
import os, sys
pw, root, n, gr = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.makedirs(root)
with open(pw, "w") as f:
    for i in range(n):
        f.write("p%d:x:%d:%d::/home/p%d:/bin/sh\n" % (i, 100000 + i, 100000 + i, i))
with open(gr, "w") as f:
    for i in range(n):
        f.write("p%d:x:%d:\n" % (i, 100000 + i))
for d in range(100):
    os.makedirs(os.path.join(root, "d%02d" % d))
for i in range(n):
    p = os.path.join(root, "d%02d" % (i % 100), "f%d" % i)
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
    os.chown(p, 100000 + i, 100000 + i)
PYEOF
  "$CTL" import --passwd "$SD/passwd" --group "$SD/group" >>"$LOG" 2>&1 || die "import for the attach bench failed"
  "$CTL" storage register "$SD/tree2" --name owners >>"$LOG" 2>&1 || die "storage register failed"
  for round in $(seq 1 "$ROUNDS"); do
    s=$(date +%s.%N); "$CTL" storage attach "$SD/tree2" --apply > "$SD/attach.out" 2>>"$LOG"; e=$(date +%s.%N)
    grep -q 'nothing to convert' "$SD/attach.out" || die "attach bench: something to change"
    echo "STORAGE_ATTACH round=$round owners=$ST_OWNERS attach_s=$(echo "$e - $s" | bc -l)" | tee -a "$RES" >&2
  done
  unset ACCORD_CONF
  rm -rf "$SD"
fi

load end
echo "ELAPSED s=$(( $(date +%s) - T0 ))" | tee -a "$RES" >&2
python3 "$HERE/report.py" "$RES" > "$OUT/results.md"
cat "$OUT/results.md"
echo "results: $RES, $OUT/results.md (per-run lines: $OUT/runs.log, build/tool output: $LOG)" >&2
