"""The private-channel join and write checks, emulated as the Realtime server runs them."""

from __future__ import annotations

from pgpolicy.postgrest.identity import as_anon, as_signed_in_without_sub
from pgpolicy.testing.harness import Database


def _policy_reading_topic(db: Database, topic: str) -> None:
    db.execute(
        "create policy toolkit_read_topic on realtime.messages for select to authenticated"
        f" using (realtime.topic() = '{topic}')"
    )


def test_join_allowed_when_a_policy_allows_the_topic(db: Database) -> None:
    alice = db.create_user("alice")
    _policy_reading_topic(db, "room:open")
    access = db.join("room:open", as_=alice)
    assert access.can_join
    assert access.read == {"broadcast": True, "presence": True}
    assert access.error is None


def test_join_denied_on_another_topic(db: Database) -> None:
    alice = db.create_user("alice")
    _policy_reading_topic(db, "room:open")
    access = db.join("room:closed", as_=alice)
    assert not access.can_join
    assert access.error is None


def test_join_denied_for_anon_and_for_a_session_without_sub(db: Database) -> None:
    _policy_reading_topic(db, "room:open")
    assert not db.join("room:open", as_=as_anon()).can_join
    db.execute(
        "create policy toolkit_read_own on realtime.messages for select to authenticated"
        " using (auth.uid() is not null and realtime.topic() = 'room:mine')"
    )
    assert not db.join("room:mine", as_=as_signed_in_without_sub()).can_join


def test_join_denied_when_the_policy_depends_on_event(db: Database) -> None:
    alice = db.create_user("alice")
    db.execute(
        "create policy toolkit_read_event on realtime.messages for select to authenticated"
        " using (realtime.topic() = 'room:ev' and event = 'chat')"
    )
    assert not db.join("room:ev", as_=alice).can_join


def test_join_allows_per_extension(db: Database) -> None:
    alice = db.create_user("alice")
    db.execute(
        "create policy toolkit_read_presence on realtime.messages for select to authenticated"
        " using (realtime.topic() = 'room:p' and extension = 'presence')"
    )
    access = db.join("room:p", as_=alice)
    assert access.read == {"broadcast": False, "presence": True}
    assert access.can_join


def test_write_check_allows_presence_and_denies_broadcast(db: Database) -> None:
    alice = db.create_user("alice")
    _policy_reading_topic(db, "room:w")
    db.execute(
        "create policy toolkit_write_presence on realtime.messages for insert to authenticated"
        " with check (realtime.topic() = 'room:w' and extension = 'presence')"
    )
    access = db.join("room:w", as_=alice)
    assert access.write == {"broadcast": False, "presence": True}


def test_checks_leave_no_probe_rows_behind(db: Database) -> None:
    alice = db.create_user("alice")
    _policy_reading_topic(db, "room:open")
    db.execute(
        "create policy toolkit_write_all on realtime.messages for insert to authenticated"
        " with check (true)"
    )
    before = db.scalar("select count(*) from realtime.messages")
    access = db.join("room:open", as_=alice)
    assert access.write == {"broadcast": True, "presence": True}
    assert db.scalar("select count(*) from realtime.messages") == before


def test_a_policy_error_is_reported_not_mistaken_for_a_deny(db: Database) -> None:
    alice = db.create_user("alice")
    db.execute(
        "create policy toolkit_read_broken on realtime.messages for select to authenticated"
        " using ((realtime.topic())::int > 0)"
    )
    access = db.join("room:x", as_=alice)
    assert not access.can_join
    assert access.error is not None and access.error.startswith("22P02")


def test_join_runs_as_the_subscribers_role_with_its_claims(db: Database) -> None:
    alice = db.create_user("alice")
    bob = db.create_user("bob")
    db.execute(
        "create policy toolkit_read_self on realtime.messages for select to authenticated"
        " using (realtime.topic() = 'user:' || auth.uid()::text)"
    )
    assert db.join(f"user:{alice.id}", as_=alice).can_join
    assert not db.join(f"user:{alice.id}", as_=bob).can_join
