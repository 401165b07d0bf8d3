#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries the given binaries load (ldd),
# one per line: what the image's runtime stage installs, so it gets the libraries and no -dev
# package. libnode is left out: it is unpacked into .deps, not installed (fetch_libnode.sh),
# and the image copies it. Fails when a library belongs to no package, rather than make an
# image that cannot start.
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: runtime_packages.sh BINARY..." >&2; exit 2; }

ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | grep -v '/libnode\.so' | sort -u |
  while read -r lib; do
    # Merged /usr: the loader reports /lib/... while a package may list /usr/lib/... (or the
    # other way round); dpkg knows only the path the package shipped.
    for path in "$lib" "/usr${lib#/usr}" "${lib#/usr}"; do
      if owner=$(dpkg-query -S "$path" 2>/dev/null); then
        echo "${owner%%: *}" | cut -d: -f1
        continue 2
      fi
    done
    echo "runtime_packages.sh: no package holds $lib" >&2
    exit 1
  done | sort -u
