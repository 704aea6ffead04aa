"""`pytest --pgpolicy-coverage`: the access-matrix cells the proofs never exercised.

The matrix file comes from ``--pgpolicy-matrix`` or the ``pgpolicy_matrix`` ini setting.
Under pytest-xdist each worker records its own cells and the controller merges them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pgpolicy.analysis.coverage import (
    CoverageCell,
    CoverageRecorder,
    matrix_cells,
    missing_cells,
)
from pgpolicy.analysis.matrix.spec import load_spec
from pgpolicy.postgrest.attempts import listen

__all__ = ["CoveragePlugin", "add_coverage_options", "configure_coverage"]

_WORKER_KEY = "pgpolicy_coverage"


def add_coverage_options(parser: pytest.Parser, group: Any) -> None:
    group.addoption(
        "--pgpolicy-coverage",
        action="store_true",
        default=False,
        help="report the access-matrix cells no test exercised, and the percentage covered",
    )
    group.addoption(
        "--pgpolicy-coverage-fail-under",
        type=float,
        default=None,
        metavar="PERCENT",
        help="fail the run when coverage of the matrix is below PERCENT",
    )
    group.addoption("--pgpolicy-matrix", default=None, help="the matrix file (TOML)")
    parser.addini("pgpolicy_matrix", default="", help="matrix file whose cells coverage counts")


def configure_coverage(config: pytest.Config) -> None:
    if config.getoption("--pgpolicy-coverage") or config.getoption(
        "--pgpolicy-coverage-fail-under"
    ):
        config.pluginmanager.register(CoveragePlugin(config), "pgpolicy-coverage")


class CoveragePlugin:
    def __init__(self, config: pytest.Config) -> None:
        name = config.getoption("--pgpolicy-matrix") or config.getini("pgpolicy_matrix")
        if not name:
            raise pytest.UsageError(
                "--pgpolicy-coverage needs a matrix file: --pgpolicy-matrix FILE or the "
                "pgpolicy_matrix ini setting"
            )
        path = Path(name) if Path(name).is_absolute() else Path(config.rootpath) / name
        self.spec = load_spec(path)
        self.path = path
        self.expected = matrix_cells(self.spec)
        self.recorder = CoverageRecorder(topics=list(self.spec.topics))
        self.fail_under: float | None = config.getoption("--pgpolicy-coverage-fail-under")
        self._stop = listen(self.recorder)
        self.config = config

    def percent(self) -> float:
        if not self.expected:
            return 100.0
        missing = missing_cells(self.expected, self.recorder.exercised)
        return 100.0 * (len(self.expected) - len(missing)) / len(self.expected)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._stop()
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: hand the cells to the controller
            workeroutput[_WORKER_KEY] = [
                (c.object, c.action, c.actor) for c in self.recorder.exercised
            ]
            return
        if self.fail_under is not None and self.percent() < self.fail_under:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        for cell in getattr(node, "workeroutput", {}).get(_WORKER_KEY, []):
            self.recorder.exercised.add(CoverageCell(*cell))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if getattr(self.config, "workeroutput", None) is not None:
            return
        missing = missing_cells(self.expected, self.recorder.exercised)
        covered = len(self.expected) - len(missing)
        write = terminalreporter.write_line
        terminalreporter.section("pgpolicy coverage")
        write(
            f"{self.path.name}: {covered}/{len(self.expected)} cells exercised "
            f"({self.percent():.1f}%) by actor class "
            "(anon, authenticated, authenticated without sub, service_role, custom roles)"
        )
        for cell in missing:
            write(f"  never exercised: {cell}")
        if self.fail_under is not None and self.percent() < self.fail_under:
            write(f"FAILED: coverage {self.percent():.1f}% is below {self.fail_under:.1f}%")
