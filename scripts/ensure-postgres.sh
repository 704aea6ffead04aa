#!/usr/bin/env bash
# Make sure local PostgreSQL server binaries (pg_ctl, initdb, postgres) exist, so that an
# embedded cluster can be started without any configuration (DESIGN.md, "Where the database
# comes from", way 2). Quick and idempotent when they are already there; installs the
# distribution's `postgresql` package when root on Debian/Ubuntu; otherwise says what to do.
set -euo pipefail

find_bindir() {
    local pg_ctl dir candidate
    if pg_ctl="$(command -v pg_ctl 2>/dev/null)"; then
        dir="$(dirname "$(readlink -f "$pg_ctl")")"
        if [[ -x "$dir/initdb" && -x "$dir/postgres" ]]; then
            echo "$dir"
            return 0
        fi
    fi
    # Newest major version first (Debian/Ubuntu keep the binaries off PATH).
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
        if [[ -x "$candidate/pg_ctl" && -x "$candidate/initdb" && -x "$candidate/postgres" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

report() {
    echo "PostgreSQL server binaries: $1 ($("$1/pg_ctl" --version))"
}

# pgTAP (pure SQL, arch all) for the server's major version, so supabase/tests/*.sql run as
# pytest items; only where apt can install it, and never fatal (only pgTAP items need it).
ensure_pgtap() {
    local major
    major="$("$1/pg_ctl" --version | sed -E 's/.* ([0-9]+)[.].*/\1/')"
    if [[ -f "/usr/share/postgresql/$major/extension/pgtap.control" ]]; then
        return 0
    fi
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "postgresql-$major-pgtap" || { apt-get update \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "postgresql-$major-pgtap"; }; } || echo "postgresql-$major-pgtap could not be installed:" \
            "pgTAP files will fail until it is" >&2
    fi
}

if bindir="$(find_bindir)"; then
    report "$bindir"
    ensure_pgtap "$bindir"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    cat >&2 <<'EOF'
No PostgreSQL server binaries (pg_ctl, initdb, postgres) on PATH or under /usr/lib/postgresql/*/bin.
Install them as root (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql),
or use an existing server instead: export DATABASE_URL=postgresql://user:password@host:5432/dbname
EOF
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "No PostgreSQL server binaries found and no apt-get to install them: install the" \
        "PostgreSQL server package with this system's package manager." >&2
    exit 1
fi

echo "No PostgreSQL server binaries found; installing the distribution's postgresql package..."
apt-get update
# apt may start a system cluster on 5432; nothing here depends on it.
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql

if ! bindir="$(find_bindir)"; then
    echo "postgresql was installed but pg_ctl/initdb/postgres are still not found." >&2
    exit 1
fi
report "$bindir"
ensure_pgtap "$bindir"
