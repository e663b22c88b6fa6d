#!/usr/bin/env bash
# Snapshot the files a role writes on a test host, and compare two snapshots: proof that a
# refactoring of a role renders the same files (content, owner, group, mode).
#
#   scripts/rendered-snapshot.sh save CONTAINER DIR [PATH ...] [-f PATHS_FILE]
#   scripts/rendered-snapshot.sh compare BEFORE_DIR AFTER_DIR
#
# save: for each path (from the arguments and/or PATHS_FILE, one a line, '#' comments allowed),
# read in the running container CONTAINER (docker exec, as root): its type, owner, group, mode
# and, for a regular file, its sha256 and content. DIR gets `index.tsv` (one line a path:
# path, type, owner, group, mode, sha256; "absent" when missing) and `files/<path>` (the
# contents). A path that is a directory is recorded itself, not what it holds, unless it is given
# with a trailing "/": then everything below it is recorded too (e.g. /etc/nginx/).
# compare: the differences between two snapshots' index.tsv, then a unified diff of each file
# whose content differs; exits 1 when anything differs, 0 when both are the same.
#
# scripts/rendered-snapshot.host-baseline.paths lists what the hardening and docker roles write
# in the host_baseline scenario (molecule/host_baseline, host mvp-hb-debian13), e.g.
#   molecule converge -s host_baseline   # from the unchanged branch
#   scripts/rendered-snapshot.sh save mvp-hb-debian13 /var/tmp/before -f scripts/rendered-snapshot.host-baseline.paths
#   ...change the role; molecule destroy; molecule converge ...
#   scripts/rendered-snapshot.sh save mvp-hb-debian13 /var/tmp/after -f scripts/rendered-snapshot.host-baseline.paths
#   scripts/rendered-snapshot.sh compare /var/tmp/before /var/tmp/after
set -euo pipefail

die() { printf 'ERROR: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '5,6p' "$0" | sed 's/^# \{0,3\}//' >&2; exit 2; }

save() {
  local container=$1 dir=$2
  shift 2
  local -a paths=()
  while [ $# -gt 0 ]; do
    case $1 in
      -f)
        [ $# -ge 2 ] || usage
        [ -r "$2" ] || die "cannot read $2"
        while IFS= read -r line; do
          line=${line%%#*}
          line=${line//[[:space:]]/}
          [ -n "$line" ] && paths+=("$line")
        done < "$2"
        shift 2 ;;
      *) paths+=("$1"); shift ;;
    esac
  done
  [ ${#paths[@]} -gt 0 ] || die "no paths given"
  docker inspect --format '{{.State.Running}}' "$container" 2>/dev/null | grep -qx true \
    || die "container $container is not running"
  # A path ending in "/" stands for the directory and everything below it (one file system).
  local -a expanded=()
  local entry
  for entry in "${paths[@]}"; do
    if [ "${entry%/}" != "$entry" ]; then
      mapfile -t -O "${#expanded[@]}" expanded < <(docker exec "$container" sh -c \
        'find "$1" -xdev 2>/dev/null | sort' sh "${entry%/}")
    else
      expanded+=("$entry")
    fi
  done
  paths=("${expanded[@]}")
  rm -rf "$dir"
  mkdir -p "$dir/files"
  local path meta
  for path in "${paths[@]}"; do
    case $path in /*) ;; *) die "not an absolute path: $path" ;; esac
    # One exec a path: "type owner group mode sha256" (sha256 "-" unless a regular file).
    meta=$(docker exec "$container" sh -c '
      p=$1
      if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo "absent - - - -"; exit 0; fi
      if [ -L "$p" ]; then t=symlink; elif [ -d "$p" ]; then t=directory; elif [ -f "$p" ]; then t=file; else t=other; fi
      s=-
      [ "$t" = file ] && s=$(sha256sum "$p" | cut -d" " -f1)
      printf "%s %s\n" "$t $(stat -c "%U %G %04a" "$p")" "$s"' sh "$path")
    printf '%s\t%s\n' "$path" "${meta// /$'\t'}" >> "$dir/index.tsv"
    if [ "${meta%% *}" = file ]; then
      mkdir -p "$dir/files$(dirname "$path")"
      docker exec "$container" cat "$path" > "$dir/files$path"
    fi
  done
  printf '==> %s: %d paths from %s saved in %s\n' "$(date -u +%FT%TZ)" "${#paths[@]}" "$container" "$dir" >&2
}

compare() {
  local before=$1 after=$2 rc=0
  [ -f "$before/index.tsv" ] || die "$before has no index.tsv"
  [ -f "$after/index.tsv" ] || die "$after has no index.tsv"
  if ! diff -u --label "$before/index.tsv" --label "$after/index.tsv" \
       <(sort "$before/index.tsv") <(sort "$after/index.tsv"); then
    rc=1
  fi
  # The content of each file that differs (or exists on one side only).
  diff -ruN "$before/files" "$after/files" || rc=1
  if [ "$rc" -eq 0 ]; then
    printf '==> same: %d paths (type, owner, group, mode, sha256, content)\n' "$(wc -l < "$before/index.tsv")" >&2
  fi
  return "$rc"
}

[ $# -ge 1 ] || usage
case $1 in
  save) [ $# -ge 3 ] || usage; shift; save "$@" ;;
  compare) [ $# -eq 3 ] || usage; compare "$2" "$3" ;;
  *) usage ;;
esac
