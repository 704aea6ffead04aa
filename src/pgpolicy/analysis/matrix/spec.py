"""The matrix file: actors, seed, probe rows and arguments, expected verdicts (TOML).

::

    schemas = ["public"]                 # exposed schemas (default: public)
    seed = "insert into …"               # SQL run first (or seed_file = "seed.sql")

    [actors.alice]                       # kind: user | anon | service_role | no_sub | role
    kind = "user"
    id = "a11ce000-0000-4000-8000-000000000001"    # the auth.users row created for her
    app_metadata = { team = "red" }
    claims = { user_role = "admin" }     # merged over the issued claims (as a token hook)
    vars = { other = "…" }               # placeholders for her rows and arguments
    label = "participant"                # what the README calls this actor

    [rows."public.posts"]
    insert = { owner = "{sub}", body = "probe" }   # the row each actor tries to insert
    update = { body = "edited" }                   # the SET of the update probe

    [functions."public.send"]
    args = { _to = "{var:other}" }

    [topics."room:<id>"]
    topic = "room:1"

    [expect."public.posts"]
    select = { alice = "allowed 1", anon = "filtered" }

Placeholders: ``{sub}`` (the actor's ``sub`` claim), ``{var:name}`` (the actor's vars; a var
named ``sub`` overrides the claim). A placeholder the actor lacks becomes NULL.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pgpolicy.analysis.matrix.verdict import Cell, Verdict

__all__ = [
    "DEFAULT_ACTORS_TOML",
    "ActorSpec",
    "MatrixSpec",
    "MatrixSpecError",
    "default_spec",
    "load_spec",
    "spec_from_data",
]

ActorKind = Literal["user", "anon", "service_role", "no_sub", "role"]
_KINDS = ("user", "anon", "service_role", "no_sub", "role")
_PLACEHOLDER = re.compile(r"^\{(sub|var:[A-Za-z_][A-Za-z0-9_]*)\}$")


class MatrixSpecError(ValueError):
    """The matrix file cannot be used as written."""


@dataclass(frozen=True)
class ActorSpec:
    name: str
    kind: ActorKind
    label: str
    id: uuid.UUID | None = None
    email: str | None = None
    app_metadata: dict[str, Any] = field(default_factory=dict)
    user_metadata: dict[str, Any] = field(default_factory=dict)
    role: str | None = None
    claims: dict[str, Any] | None = None
    vars: dict[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any, sub: str | None) -> Any:
        """A value from the file with this actor's placeholders filled in (whole values)."""
        if isinstance(value, dict):
            return {key: self.resolve(item, sub) for key, item in value.items()}
        if not isinstance(value, str):
            return value
        match = _PLACEHOLDER.match(value)
        if match is None:
            return value
        name = match.group(1)
        if name == "sub":
            return self.vars.get("sub", sub)
        return self.vars.get(name.removeprefix("var:"))


@dataclass(frozen=True)
class MatrixSpec:
    actors: tuple[ActorSpec, ...]
    schemas: tuple[str, ...] = ("public",)
    seed: str = ""
    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    expect: dict[Cell, Verdict] = field(default_factory=dict)
    source: Path | None = None

    def actor(self, name: str) -> ActorSpec:
        for actor in self.actors:
            if actor.name == name:
                return actor
        raise KeyError(name)


def _actor(name: str, data: dict[str, Any]) -> ActorSpec:
    kind = data.get("kind", "user")
    if kind not in _KINDS:
        raise MatrixSpecError(f"actor {name}: kind must be one of {', '.join(_KINDS)}")
    if kind == "role" and not data.get("role"):
        raise MatrixSpecError(f"actor {name}: kind 'role' needs `role`")
    actor_id = data.get("id")
    if kind == "user":
        # A stable id per name, so a seed may refer to users it did not list.
        actor_id = uuid.UUID(str(actor_id)) if actor_id else uuid.uuid5(uuid.NAMESPACE_URL, name)
    return ActorSpec(
        name=name,
        kind=kind,
        label=str(data.get("label", name)),
        id=actor_id if isinstance(actor_id, uuid.UUID) else None,
        email=data.get("email"),
        app_metadata=dict(data.get("app_metadata", {})),
        user_metadata=dict(data.get("user_metadata", {})),
        role=data.get("role"),
        claims=data.get("claims"),
        vars=dict(data.get("vars", {})),
    )


def _expectations(data: dict[str, Any], actors: set[str]) -> dict[Cell, Verdict]:
    expect: dict[Cell, Verdict] = {}
    for object_name, actions in data.items():
        for action, by_actor in actions.items():
            for actor, text in by_actor.items():
                if actor not in actors:
                    raise MatrixSpecError(f"expect.{object_name}.{action}: unknown actor {actor}")
                try:
                    expect[Cell(object_name, action, actor)] = Verdict.parse(str(text))
                except ValueError as error:
                    raise MatrixSpecError(
                        f"expect.{object_name}.{action}.{actor}: {error}"
                    ) from error
    return expect


def load_spec(path: Path, *, seed_file: Path | None = None) -> MatrixSpec:
    """Read a matrix file; ``seed_file`` (SQL) replaces the file's own seed when given."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise MatrixSpecError(f"{path}: {error}") from error
    return spec_from_data(data, path, seed_file=seed_file)


def spec_from_data(
    data: dict[str, Any], path: Path, *, seed_file: Path | None = None
) -> MatrixSpec:
    """A matrix file's parsed TOML as a MatrixSpec (``path``: where it came from, for
    messages and ``seed_file``)."""
    actors = tuple(_actor(name, item) for name, item in data.get("actors", {}).items())
    topics = data.get("topics", {})
    for pattern, item in topics.items():
        if not isinstance(item, dict) or not isinstance(item.get("topic"), str):
            raise MatrixSpecError(f'{path}: [topics."{pattern}"] needs topic = "…" (a real topic)')
    if not actors:
        raise MatrixSpecError(f"{path}: no [actors.<name>] table")
    seed = str(data.get("seed", ""))
    if "seed_file" in data:
        seed = (path.parent / str(data["seed_file"])).read_text(encoding="utf-8")
    if seed_file is not None:
        seed = seed_file.read_text(encoding="utf-8")
    return MatrixSpec(
        actors=actors,
        schemas=tuple(data.get("schemas", ("public",))),
        seed=seed,
        rows={str(k): dict(v) for k, v in data.get("rows", {}).items()},
        functions={str(k): dict(v) for k, v in data.get("functions", {}).items()},
        topics={str(k): str(v["topic"]) for k, v in topics.items()},
        expect=_expectations(data.get("expect", {}), {a.name for a in actors}),
        source=path,
    )


# What `pgpolicy matrix` probes without --actors: the four callers every API has.
DEFAULT_ACTORS_TOML = """\
[actors.anon]
kind = "anon"

[actors.user]
kind = "user"
label = "a fresh signed-in user"

[actors.no_sub]
kind = "no_sub"
label = "signed in, no sub claim"

[actors.service_role]
kind = "service_role"
"""


def default_spec(*, seed_file: Path | None = None) -> MatrixSpec:
    """The matrix of the four default actors (no file)."""
    return spec_from_data(
        tomllib.loads(DEFAULT_ACTORS_TOML), Path("default actors"), seed_file=seed_file
    )
