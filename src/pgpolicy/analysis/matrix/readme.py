"""The README's access table, generated from a matrix file's [expect] section.

The table sits between two marker lines; everything else in the README is left as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from pgpolicy.analysis.matrix.render import expected_matrix, render_markdown
from pgpolicy.analysis.matrix.spec import load_spec

__all__ = ["BEGIN", "END", "ReadmeSectionError", "readme_section", "update_readme"]

BEGIN = "<!-- access-matrix: generated from {source} by `make readme-matrix`; do not edit -->"
END = "<!-- access-matrix: end -->"


class ReadmeSectionError(ValueError):
    """The README has no (or a broken) generated section."""


def readme_section(expect_file: Path, source_label: str) -> str:
    spec = load_spec(expect_file)
    return "\n".join(
        [BEGIN.format(source=source_label), render_markdown(expected_matrix(spec)), END]
    )


def update_readme(expect_file: Path, readme: Path, *, check: bool = False) -> bool:
    """Replace the section with a fresh rendering; return whether it changed."""
    text = readme.read_text(encoding="utf-8")
    start = text.find("<!-- access-matrix: generated from ")
    end = text.find(END)
    if start < 0 or end < start:
        raise ReadmeSectionError(f"{readme} has no access-matrix section (marker lines)")
    # Named from the document's own folder, so the label is the same from wherever it is run.
    label = Path(os.path.relpath(expect_file.resolve(), readme.resolve().parent)).as_posix()
    new = text[:start] + readme_section(expect_file, label) + text[end + len(END) :]
    if new != text and not check:
        readme.write_text(new, encoding="utf-8")
    return new != text
