"""`pgpolicy matrix`: every actor, exposed object and action, probed for real and rolled back."""

from pgpolicy.analysis.matrix.probes import Matrix, probe_matrix
from pgpolicy.analysis.matrix.render import (
    Difference,
    compare,
    expected_matrix,
    render_json,
    render_markdown,
    render_text,
)
from pgpolicy.analysis.matrix.spec import ActorSpec, MatrixSpec, MatrixSpecError, load_spec
from pgpolicy.analysis.matrix.verdict import Cell, Verdict

__all__ = [
    "ActorSpec",
    "Cell",
    "Difference",
    "Matrix",
    "MatrixSpec",
    "MatrixSpecError",
    "Verdict",
    "compare",
    "expected_matrix",
    "load_spec",
    "probe_matrix",
    "render_json",
    "render_markdown",
    "render_text",
]
