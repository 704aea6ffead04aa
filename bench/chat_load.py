"""`make bench`'s concurrent run: the chat under many PostgREST-shaped clients at once.

pgbench, 16 clients by default, one mix of transactions as PostgREST sends them (role and
claims set per transaction): sends by RPC (insert_chat_message_once) and by direct insert
into the hub's many threads, history pages, both sides of new pairs calling
ensure_chat_thread at once, and every client sending into one hot thread. The run fails on
any failed transaction or aborted client; then the invariants are checked on the data:
every committed send stored once with exactly one broadcast, each touched thread's
last_message_at (and both members' rows) equal to its newest message, one thread per pair.
The same load as service_role (RPC sends as direct inserts, thread creation as the insert a
trusted backend would make) gives the throughput baseline.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_seed import ALICE, BOB, Shape, mongo_sql, seed, uuid_sql

from pgpolicy.provision import Server, provide_server
from pgpolicy.provision.binaries import find_pg_bindir
from pgpolicy.testing.template import migrated_template

__all__ = ["LoadReport", "check_invariants", "load_scripts", "run_load"]

ROOT = Path(__file__).resolve().parents[1]
LOAD_BODY = "load message"


def _int(var: str) -> str:
    """pgbench variable :var as an integer (prepared, it is sent as a text parameter)."""
    return f"(:{var})::int"


def _mongo(var: str) -> str:
    return mongo_sql(_int(var))


def _uuid(var: str) -> str:
    return uuid_sql(_int(var))


def _thread(a: str, b: str) -> str:
    """The deterministic thread id of users :a and :b, in SQL."""
    low = mongo_sql(f"least({_int(a)}, {_int(b)})")
    high = mongo_sql(f"greatest({_int(a)}, {_int(b)})")
    return f"{low} || '__' || {high}"


def _as(role: str, user: str | None, path: str) -> str:
    """PostgREST's per-transaction settings, the claims built from pgbench variable :user."""
    claims = (
        "json_build_object('role', 'service_role')::text"
        if user is None
        else (
            f"json_build_object('sub', {_uuid(user)}, 'role', 'authenticated',"
            " 'aud', 'authenticated', 'app_metadata',"
            f" json_build_object('mongoUserId', {_mongo(user)}))::text"
        )
    )
    return (
        "begin;\n"
        f"select pg_catalog.set_config('role', '{role}', true),"
        f" pg_catalog.set_config('request.jwt.claims', {claims}, true),"
        " pg_catalog.set_config('request.method', 'POST', true),"
        f" pg_catalog.set_config('request.path', '{path}', true);\n"
    )


def load_scripts(shape: Shape, *, service_role: bool) -> dict[str, str]:
    """The pgbench scripts of the mix, by name (``name@weight`` is given at run time)."""
    hub, last = shape.hub, 3 + shape.partners
    # New pairs (p, p + 1) below the hub: both are partners of the hub only, so no thread yet.
    new_pairs = max(1, (hub - 4) // 2)
    role = "service_role" if service_role else "authenticated"
    pick_partner = (
        f"\\set p random(3, {last})\n"
        f"\\set p case when :p = {hub} or :p = {hub + 1} then {hub + 2} else :p end\n"
        "\\set side random(0, 1)\n"
        f"\\set sender case when :side = 0 then :p else {hub} end\n"
        f"\\set recipient case when :side = 0 then {hub} else :p end\n"
    )

    def send(path: str) -> str:
        actor = None if service_role else "sender"
        if service_role or path == "/chat_messages":
            statement = (
                "insert into public.chat_messages (thread_id, sender_supabase_id, sender_mongo_id,"
                f" recipient_mongo_id, body) values ({_thread('sender', 'recipient')},"
                f" {_uuid('sender')}, {_mongo('sender')}, {_mongo('recipient')},"
                f" '{LOAD_BODY}') returning *;\n"
            )
        else:
            statement = (
                "select * from public.insert_chat_message_once(gen_random_uuid(),"
                f" {_thread('sender', 'recipient')}, {_mongo('sender')}, {_mongo('recipient')},"
                f" '{LOAD_BODY}');\n"
            )
        return _as(role, actor, path) + statement + "commit;\n"

    history = (
        pick_partner
        + _as(role, None if service_role else "sender", "/rpc/chat_history")
        + f"select * from public.chat_history({_thread('sender', 'recipient')},"
        " null, null, 50);\ncommit;\n"
    )
    create_pair = (
        f"\\set k random(0, {new_pairs - 1})\n"
        "\\set a 3 + 2 * :k\n\\set b :a + 1\n\\set side random(0, 1)\n"
        "\\set caller case when :side = 0 then :a else :b end\n"
        "\\set other case when :side = 0 then :b else :a end\n"
    )
    if service_role:
        create_pair += (
            _as(role, None, "/chat_threads")
            + "insert into public.chat_threads (thread_id, user_a_mongo_id, user_b_mongo_id,"
            f" user_a_supabase_id, user_b_supabase_id) values ({_thread('a', 'b')},"
            f" {_mongo('a')}, {_mongo('b')}, {_uuid('a')}, {_uuid('b')})"
            " on conflict do nothing;\ncommit;\n"
        )
    else:
        create_pair += (
            _as(role, "caller", "/rpc/ensure_chat_thread")
            + f"select * from public.ensure_chat_thread({_mongo('other')});\ncommit;\n"
        )
    hot = (
        "\\set side random(0, 1)\n"
        f"\\set sender case when :side = 0 then {ALICE} else {BOB} end\n"
        f"\\set recipient case when :side = 0 then {BOB} else {ALICE} end\n"
    ) + send("/rpc/insert_chat_message_once")
    return {
        "send_rpc": pick_partner + send("/rpc/insert_chat_message_once"),
        "send_direct": pick_partner + send("/chat_messages"),
        "history": history,
        "new_thread_both_sides": create_pair,
        "hot_thread": hot,
    }


WEIGHTS = {
    "send_rpc": 4,
    "send_direct": 2,
    "history": 3,
    "new_thread_both_sides": 2,
    "hot_thread": 2,
}
SENDS = ("send_rpc", "send_direct", "hot_thread")


@dataclass
class LoadReport:
    """One load run: transactions per script, failures, throughput, what pgbench printed."""

    role: str
    transactions: dict[str, int]
    failed: int
    aborted: bool
    tps: float
    latency_ms: float
    output: str
    threads_created: int = 0

    @property
    def sends(self) -> int:
        return sum(self.transactions.get(name, 0) for name in SENDS)


def _pgbench() -> Path:
    bindir = find_pg_bindir()
    if bindir is None or not (bindir / "pgbench").exists():
        raise SystemExit("pgbench not found next to the PostgreSQL server binaries")
    return bindir / "pgbench"


def _committed_per_script(log_dir: Path, order: list[str]) -> dict[str, int]:
    """Transactions that completed, per script, from pgbench's per-transaction logs.

    pgbench's own per-script summary is summed by its threads without a lock ("XXX could use
    a mutex here, but we choose not to" in pgbench.c), so under -j 2 it can lose one: measured,
    the five scripts summed to 22,399 of 16 x 1,400 while one send more was stored. Each
    thread writes a log of its own, one line per transaction: client, transaction number,
    elapsed microseconds (or why it did not complete), script number, ...
    """
    counts = dict.fromkeys(order, 0)
    for log in sorted(log_dir.glob("log.*")):
        for line in log.read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[2].isdigit():
                counts[order[int(fields[3])]] += 1
    return counts


def _parse(role: str, output: str, transactions: dict[str, int]) -> LoadReport:
    failed = re.search(r"number of failed transactions: (\d+)", output)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    return LoadReport(
        role=role,
        transactions=transactions,
        failed=int(failed.group(1)) if failed else 0,
        aborted="aborted" in output,
        tps=float(tps.group(1)) if tps else 0.0,
        latency_ms=float(latency.group(1)) if latency else 0.0,
        output=output,
    )


def run_load(
    url: str, shape: Shape, *, clients: int, transactions: int, service_role: bool
) -> LoadReport:
    """Run the mix on ``url``'s (seeded) database; the report, whatever pgbench answered."""
    scripts = load_scripts(shape, service_role=service_role)
    with tempfile.TemporaryDirectory(prefix="pgpolicy-load-") as work:
        arguments = []
        for name, script in scripts.items():
            path = Path(work) / f"{name}.sql"
            path.write_text(script, encoding="utf-8")
            arguments += ["-f", f"{path}@{WEIGHTS[name]}"]
        result = subprocess.run(
            [
                str(_pgbench()),
                "-n",
                "-M",
                "prepared",
                "-c",
                str(clients),
                "-j",
                "2",
                "-t",
                str(transactions),
                "--failures-detailed",
                # Per-transaction logs: the exact count of each script's transactions.
                "-l",
                "--log-prefix",
                str(Path(work) / "log"),
                *arguments,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=600 + transactions,
            check=False,
        )
        counts = _committed_per_script(Path(work), list(scripts))
    report = _parse(
        "service_role" if service_role else "authenticated",
        result.stdout + result.stderr,
        counts,
    )
    if result.returncode != 0:
        report.aborted = True
    return report


# Each query counts the rows that break one invariant, among what the load touched.
INVARIANTS = {
    "a committed send not stored exactly once": """
        select abs(count(*) - %(sends)s) from public.chat_messages where body = %(body)s
    """,
    "a stored message without exactly one broadcast": """
        with sent as (
          select r.payload -> 'record' ->> 'id' as id, count(*) as broadcasts
          from realtime.messages r
          where r.topic like 'chat:%%' and r.payload -> 'record' ->> 'body' = %(body)s
          group by 1)
        select count(*) from public.chat_messages m
        full join sent s on s.id = m.id::text
        where (m.body = %(body)s or m.id is null) and coalesce(s.broadcasts, 0) <> 1
    """,
    "a thread whose last_message_at is not its newest message": """
        select count(*) from public.chat_threads t
        where exists (select from public.chat_messages m
                      where m.thread_id = t.thread_id and m.body = %(body)s)
          and t.last_message_at is distinct from (
            select max(m.created_at) from public.chat_messages m where m.thread_id = t.thread_id)
    """,
    "a member row whose last_message_at differs from its thread's": """
        select count(*) from public.chat_thread_members cm
        join public.chat_threads t using (thread_id)
        where cm.last_message_at is distinct from t.last_message_at
    """,
    "a thread without exactly its two member rows": """
        select count(*) from public.chat_threads t
        where (select count(*) from public.chat_thread_members cm
               where cm.thread_id = t.thread_id) <> 2
    """,
    "a pair with more than one thread": """
        select count(*) from (
          select least(user_a_mongo_id, user_b_mongo_id), greatest(user_a_mongo_id, user_b_mongo_id)
          from public.chat_threads group by 1, 2 having count(*) > 1) pairs
    """,
}


def check_invariants(conn: psycopg.Connection[Any], sends: int) -> list[str]:
    """Every invariant the load broke, with how many rows break it (empty: all hold)."""
    broken = []
    stored = conn.execute(
        "select count(*) from public.chat_messages where body = %s", (LOAD_BODY,)
    ).fetchone()
    print(f"sends counted by pgbench: {sends:,}; stored: {stored[0] if stored else 0:,}")
    for name, query in INVARIANTS.items():
        row = conn.execute(query.encode(), {"sends": sends, "body": LOAD_BODY}).fetchone()
        count = int(row[0]) if row else 0
        if count:
            broken.append(f"{name}: {count}")
    return broken


def load_shape() -> Shape:
    """Many threads for the hub, a long hot thread, and room for new pairs."""
    return Shape(partners=4_000, big_thread_messages=2_000, small_thread_messages=3)


def run_load_bench(
    server: Server, shape: Shape, *, clients: int = 16, transactions: int = 1_400
) -> tuple[list[LoadReport], list[str]]:
    """Both runs, each on a database of its own seeded alike; the reports and what broke."""
    reports, broken = [], []
    for service_role in (False, True):
        with migrated_template(server, ROOT / "alembic.ini", base=None) as name:
            url = server.url(name)
            with psycopg.connect(url, autocommit=True) as conn:
                seed(conn, shape)
                conn.execute("vacuum analyze")
            report = run_load(
                url, shape, clients=clients, transactions=transactions, service_role=service_role
            )
            reports.append(report)
            with psycopg.connect(url, autocommit=True) as conn:
                broken += [f"{report.role}: {b}" for b in check_invariants(conn, report.sends)]
                row = conn.execute("select count(*) from public.chat_threads").fetchone()
                report.threads_created = (int(row[0]) if row else 0) - shape.threads
    return reports, broken


def render_load(reports: list[LoadReport], broken: list[str], clients: int) -> str:
    by_role = {r.role: r for r in reports}
    api, baseline = by_role["authenticated"], by_role["service_role"]
    lines = [
        f"Concurrent load: {clients} clients, pgbench -M prepared; transactions per script",
        "| script | authenticated | service_role |",
        "|---|---|---|",
    ]
    for name in WEIGHTS:
        api_count, baseline_count = (
            api.transactions.get(name, 0),
            baseline.transactions.get(name, 0),
        )
        lines.append(f"| {name} | {api_count:,} | {baseline_count:,} |")
    ratio = baseline.tps / api.tps if api.tps else float("inf")
    lines += [
        f"| **tps** | {api.tps:,.0f} | {baseline.tps:,.0f} (service_role/API {ratio:.2f}x) |",
        f"| latency avg | {api.latency_ms:.2f} ms | {baseline.latency_ms:.2f} ms |",
        f"| new threads (both sides at once) | {api.threads_created:,} |"
        f" {baseline.threads_created:,} |",
        f"| failed transactions | {api.failed} | {baseline.failed} |",
        "",
        "invariants: " + ("all hold" if not broken else "BROKEN: " + "; ".join(broken)),
    ]
    return "\n".join(lines)


def load_failures(reports: list[LoadReport], broken: list[str]) -> list[str]:
    """Why the load run fails, or nothing."""
    failures = [f"{r.role}: {r.failed} failed transactions" for r in reports if r.failed]
    failures += [f"{r.role}: a client aborted\n{r.output}" for r in reports if r.aborted]
    return failures + broken


def main() -> None:
    clients = int(os.environ.get("LOAD_CLIENTS", "16"))
    # Transactions per client: 1,400 is about 20 s of the mix here.
    transactions = int(os.environ.get("LOAD_TRANSACTIONS", "1400"))
    with provide_server() as server:
        reports, broken = run_load_bench(
            server, load_shape(), clients=clients, transactions=transactions
        )
    print(render_load(reports, broken, clients))
    failures = load_failures(reports, broken)
    if failures:
        raise SystemExit("load run failed:\n" + "\n".join(failures))


if __name__ == "__main__":
    main()
