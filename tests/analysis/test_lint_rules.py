"""Each lint rule fires on a schema with its defect and stays silent on the corrected one.

Every test builds both inside the test's rolled-back transaction, in ``public`` (an exposed
schema, with Supabase's default privileges), and reads only the findings about its objects.
"""

from __future__ import annotations

import pytest

from pgpolicy.analysis.lint import LintConfig, run_lint
from pgpolicy.testing.harness import Database


def objects_found(db: Database, rule_id: str, schemas: tuple[str, ...] = ("public",)) -> set[str]:
    report = run_lint(db.conn, LintConfig(schemas=schemas))
    return {f.object for f in report.findings if f.rule.id == rule_id}


def policy(name: str, table: str) -> str:
    return f'policy "{name}" on {table}'


# L001 -------------------------------------------------------------------------------------
def test_l001_fires_on_an_exposed_table_without_rls(db: Database) -> None:
    db.execute("create table public.lint_open (id int primary key)")
    assert "public.lint_open" in objects_found(db, "L001")


def test_l001_silent_when_rls_is_on_or_the_schema_is_not_exposed(db: Database) -> None:
    db.execute("create table public.lint_closed (id int primary key)")
    db.execute("alter table public.lint_closed enable row level security")
    db.execute("create schema lint_private")
    db.execute("create table lint_private.lint_open (id int primary key)")
    found = objects_found(db, "L001")
    assert "public.lint_closed" not in found
    assert "lint_private.lint_open" not in found


# L002 -------------------------------------------------------------------------------------
def test_l002_fires_on_policies_of_a_table_whose_rls_is_off(db: Database) -> None:
    db.execute("create table public.lint_dead (id int primary key, owner uuid)")
    db.execute(
        "create policy own on public.lint_dead for select to authenticated"
        " using (owner = (select auth.uid()))"
    )
    assert "public.lint_dead" in objects_found(db, "L002")


def test_l002_silent_when_rls_is_on(db: Database) -> None:
    db.execute("create table public.lint_live (id int primary key, owner uuid)")
    db.execute("alter table public.lint_live enable row level security")
    db.execute(
        "create policy own on public.lint_live for select to authenticated"
        " using (owner = (select auth.uid()))"
    )
    assert "public.lint_live" not in objects_found(db, "L002")


# L003 -------------------------------------------------------------------------------------
def _owned_table(db: Database, name: str) -> None:
    db.execute(f"create table public.{name} (id int primary key, owner uuid, team text)")
    db.execute(f"create index on public.{name} (owner)")
    db.execute(f"alter table public.{name} enable row level security")


def test_l003_fires_on_an_unwrapped_call_even_next_to_a_wrapped_one(db: Database) -> None:
    _owned_table(db, "lint_rows")
    db.execute(
        "create policy mixed on public.lint_rows for select to authenticated"
        " using (owner = (select auth.uid()) or owner = auth.uid())"
    )
    db.execute(
        "create policy claims on public.lint_rows for update to authenticated"
        " using (team = current_setting('request.jwt.claims', true)::jsonb ->> 'team')"
    )
    found = objects_found(db, "L003")
    assert policy("mixed", "public.lint_rows") in found
    assert policy("claims", "public.lint_rows") in found


def test_l003_fires_on_a_call_inside_a_subquery_that_reads_a_table(db: Database) -> None:
    _owned_table(db, "lint_nested")
    db.execute(
        "create policy nested on public.lint_nested for select to authenticated"
        " using (exists (select 1 from public.lint_nested n where n.owner = auth.uid()))"
    )
    assert policy("nested", "public.lint_nested") in objects_found(db, "L003")


def test_l003_silent_when_every_call_is_a_scalar_subquery(db: Database) -> None:
    _owned_table(db, "lint_wrapped")
    db.execute(
        "create policy wrapped on public.lint_wrapped for select to authenticated"
        " using (owner = (select auth.uid())"
        " and team = (select auth.jwt() -> 'app_metadata' ->> 'team'))"
    )
    assert policy("wrapped", "public.lint_wrapped") not in objects_found(db, "L003")


# L004 -------------------------------------------------------------------------------------
def test_l004_fires_on_user_metadata_in_a_policy(db: Database) -> None:
    _owned_table(db, "lint_meta")
    db.execute(
        "create policy by_jwt on public.lint_meta for select to authenticated"
        " using (team = (select auth.jwt() -> 'user_metadata' ->> 'team'))"
    )
    db.execute(
        "create policy by_users on public.lint_meta for update to authenticated"
        " using (exists (select 1 from auth.users u where u.id = (select auth.uid())"
        " and u.raw_user_meta_data ->> 'role' = 'admin'))"
    )
    found = objects_found(db, "L004")
    assert policy("by_jwt", "public.lint_meta") in found
    assert policy("by_users", "public.lint_meta") in found


def test_l004_silent_on_app_metadata(db: Database) -> None:
    _owned_table(db, "lint_app_meta")
    db.execute(
        "create policy by_app on public.lint_app_meta for select to authenticated"
        " using (team = (select auth.jwt() -> 'app_metadata' ->> 'team'))"
    )
    assert policy("by_app", "public.lint_app_meta") not in objects_found(db, "L004")


# L005 -------------------------------------------------------------------------------------
def test_l005_fires_on_an_always_true_policy_for_client_roles(db: Database) -> None:
    _owned_table(db, "lint_true")
    db.execute("create policy anyone on public.lint_true for update to anon using (true)")
    db.execute("create policy everyone on public.lint_true for insert to public with check (true)")
    found = objects_found(db, "L005")
    assert policy("anyone", "public.lint_true") in found
    assert policy("everyone", "public.lint_true") in found


def test_l005_silent_on_a_real_condition_or_service_role(db: Database) -> None:
    _owned_table(db, "lint_cond")
    db.execute(
        "create policy owner on public.lint_cond for update to authenticated"
        " using (owner = (select auth.uid())) with check (true)"
    )
    db.execute("create policy backend on public.lint_cond for all to service_role using (true)")
    found = objects_found(db, "L005")
    assert policy("owner", "public.lint_cond") not in found
    assert policy("backend", "public.lint_cond") not in found


# L006 / L007 / L008 -----------------------------------------------------------------------
def _definer(db: Database, name: str, settings: str, body: str, *, grant_anon: bool) -> str:
    db.execute(
        f"create function public.{name}() returns bigint language plpgsql security definer"
        f" {settings} as $$ begin return ({body}); end $$"
    )
    db.execute(f"revoke execute on function public.{name}() from public, anon")
    if grant_anon:
        db.execute(f"grant execute on function public.{name}() to anon")
    return f"public.{name}()"


def test_l006_fires_on_a_security_definer_function_without_search_path(db: Database) -> None:
    bad = _definer(db, "lint_open_path", "", "select 1", grant_anon=False)
    assert bad in objects_found(db, "L006")


def test_l006_silent_when_search_path_is_pinned(db: Database) -> None:
    good = _definer(db, "lint_pinned", "set search_path = ''", "select 1", grant_anon=False)
    assert good not in objects_found(db, "L006")


def test_l007_fires_on_a_security_definer_function_anon_may_call(db: Database) -> None:
    bad = _definer(db, "lint_anon_definer", "set search_path = ''", "select 1", grant_anon=True)
    assert bad in objects_found(db, "L007")


def test_l007_fires_on_supabase_default_privileges(db: Database) -> None:
    db.execute(
        "create function public.lint_default_definer() returns int language sql"
        " security definer set search_path = '' as $$ select 1 $$"
    )
    assert "public.lint_default_definer()" in objects_found(db, "L007")


def test_l007_silent_when_anon_cannot_execute(db: Database) -> None:
    good = _definer(db, "lint_auth_definer", "set search_path = ''", "select 1", grant_anon=False)
    assert good not in objects_found(db, "L007")


def test_l008_fires_on_unqualified_names_without_an_empty_search_path(db: Database) -> None:
    db.execute("create table public.lint_counted (id int primary key)")
    bad = _definer(
        db,
        "lint_unqualified",
        "set search_path = public",
        "select count(*) from lint_counted",
        grant_anon=False,
    )
    assert bad in objects_found(db, "L008")


def test_l008_silent_on_qualified_names_and_an_empty_search_path(db: Database) -> None:
    db.execute("create table public.lint_counted2 (id int primary key)")
    good = _definer(
        db,
        "lint_qualified",
        "set search_path = ''",
        "select count(*) from public.lint_counted2",
        grant_anon=False,
    )
    assert good not in objects_found(db, "L008")


def test_l008_reads_plpgsql_into_targets_as_variables_not_tables(db: Database) -> None:
    db.execute("create table public.lint_into (id int primary key, name text)")
    db.execute(
        "create function public.lint_into_vars() returns bigint language plpgsql"
        " security definer set search_path = public as $$"
        " declare _id int; _name text; _n bigint; begin"
        " select count(*) into _n from public.lint_into;"
        " select id, name into strict _id, _name from public.lint_into limit 1;"
        " insert into public.lint_into (id) values (2) returning id into _id;"
        " return _n; end $$"
    )
    db.execute("revoke execute on function public.lint_into_vars() from public, anon")
    assert "public.lint_into_vars()" not in objects_found(db, "L008")


def test_l008_names_only_the_unqualified_table_next_to_into_targets(db: Database) -> None:
    db.execute("create table public.lint_into2 (id int primary key)")
    db.execute(
        "create function public.lint_into_bare() returns bigint language plpgsql"
        " security definer set search_path = public as $$"
        " declare _first int; _second int; begin"
        " select id, id into _first, _second from lint_into2 limit 1; return _first; end $$"
    )
    db.execute("revoke execute on function public.lint_into_bare() from public, anon")
    report = run_lint(db.conn, LintConfig())
    [finding] = [f for f in report.findings if f.object == "public.lint_into_bare()"]
    assert finding.rule.id == "L008"
    assert "reads lint_into2 without a schema" in finding.message
    assert "_first" not in finding.message and "_second" not in finding.message


# L009 -------------------------------------------------------------------------------------
def test_l009_fires_on_a_definer_view_over_an_rls_table(db: Database) -> None:
    _owned_table(db, "lint_base")
    db.execute("create view public.lint_definer_view as select id from public.lint_base")
    assert "public.lint_definer_view" in objects_found(db, "L009")


def test_l009_silent_on_a_security_invoker_view(db: Database) -> None:
    _owned_table(db, "lint_base2")
    db.execute(
        "create view public.lint_invoker_view with (security_invoker = true)"
        " as select id from public.lint_base2"
    )
    assert "public.lint_invoker_view" not in objects_found(db, "L009")


# L010 -------------------------------------------------------------------------------------
def test_l010_fires_on_auth_users_behind_a_view_or_a_definer_function(db: Database) -> None:
    db.execute("create view public.lint_people as select id, email from auth.users")
    db.execute(
        "create function public.lint_emails() returns setof text language sql security definer"
        " set search_path = '' as $$ select u.email::text from auth.users u $$"
    )
    db.execute("revoke execute on function public.lint_emails() from public, anon")
    db.execute("grant execute on function public.lint_emails() to authenticated")
    found = objects_found(db, "L010")
    assert "public.lint_people" in found
    assert "public.lint_emails()" in found


def test_l010_says_a_definer_function_inserts_into_auth_users(db: Database) -> None:
    db.execute(
        "create function public.lint_make_user() returns void language sql security definer"
        " set search_path = '' as $$"
        " insert into auth.users (id, email) values (gen_random_uuid(), 'x@example.com') $$"
    )
    report = run_lint(db.conn, LintConfig())
    [finding] = [
        f for f in report.findings if f.object == "public.lint_make_user()" and f.rule.id == "L010"
    ]
    assert "inserts into auth.users" in finding.message
    assert "reads" not in finding.message


def test_l010_silent_when_api_roles_cannot_reach_it(db: Database) -> None:
    db.execute("create view public.lint_people2 as select id, email from auth.users")
    db.execute("revoke all on public.lint_people2 from anon, authenticated")
    db.execute(
        "create function public.lint_my_email() returns text language sql security invoker"
        " as $$ select (select auth.email()) $$"
    )
    found = objects_found(db, "L010")
    assert "public.lint_people2" not in found
    assert "public.lint_my_email()" not in found


# L011 -------------------------------------------------------------------------------------
def test_l011_fires_on_a_function_left_executable_by_anon(db: Database) -> None:
    db.execute("create function public.lint_helper() returns int language sql as $$ select 1 $$")
    assert "public.lint_helper()" in objects_found(db, "L011")


def test_l011_silent_once_anon_is_revoked(db: Database) -> None:
    db.execute("create function public.lint_helper2() returns int language sql as $$ select 1 $$")
    db.execute("revoke execute on function public.lint_helper2() from public, anon")
    assert "public.lint_helper2()" not in objects_found(db, "L011")


def test_l011_blames_public_when_execute_comes_through_public(db: Database) -> None:
    db.execute(
        "create function public.lint_via_public() returns int language sql as $$ select 1 $$"
    )
    db.execute("revoke execute on function public.lint_via_public() from anon")
    report = run_lint(db.conn, LintConfig())
    [finding] = [f for f in report.findings if f.object == "public.lint_via_public()"]
    assert finding.rule.id == "L011"
    assert "PUBLIC" in finding.message
    assert "default privileges" not in finding.message


def test_l011_blames_default_privileges_when_they_grant_anon(db: Database) -> None:
    db.execute(
        "create function public.lint_via_default() returns int language sql as $$ select 1 $$"
    )
    db.execute("revoke execute on function public.lint_via_default() from public")
    report = run_lint(db.conn, LintConfig())
    [finding] = [f for f in report.findings if f.object == "public.lint_via_default()"]
    assert "default privileges of schema public" in finding.message
    assert "PUBLIC" not in finding.message


# L012 -------------------------------------------------------------------------------------
def test_l012_fires_on_a_policy_column_no_index_leads(db: Database) -> None:
    db.execute("create table public.lint_unindexed (id int primary key, owner uuid, team text)")
    db.execute("create index on public.lint_unindexed (team, owner)")
    db.execute("alter table public.lint_unindexed enable row level security")
    db.execute(
        "create policy own on public.lint_unindexed for select to authenticated"
        " using (owner = (select auth.uid()))"
    )
    assert policy("own", "public.lint_unindexed") in objects_found(db, "L012")


def test_l012_silent_when_each_column_leads_an_index(db: Database) -> None:
    _owned_table(db, "lint_indexed")
    db.execute(
        "create policy own on public.lint_indexed for select to authenticated"
        " using (owner = (select auth.uid()) or id = 1)"
    )
    assert policy("own", "public.lint_indexed") not in objects_found(db, "L012")


# L013 -------------------------------------------------------------------------------------
def test_l013_fires_on_two_permissive_policies_for_one_role_and_command(db: Database) -> None:
    _owned_table(db, "lint_twice")
    db.execute(
        "create policy a on public.lint_twice for select to authenticated"
        " using (owner = (select auth.uid()))"
    )
    db.execute("create policy b on public.lint_twice for all to authenticated using (id = 1)")
    assert "public.lint_twice select for authenticated" in objects_found(db, "L013")


def test_l013_silent_on_one_policy_per_role_and_command(db: Database) -> None:
    _owned_table(db, "lint_once")
    db.execute(
        "create policy a on public.lint_once for select to authenticated"
        " using (owner = (select auth.uid()))"
    )
    db.execute("create policy b on public.lint_once for select to anon using (id = 1)")
    db.execute(
        "create policy c on public.lint_once as restrictive for select to authenticated"
        " using (id > 0)"
    )
    assert not {o for o in objects_found(db, "L013") if "lint_once" in o}


# L014 -------------------------------------------------------------------------------------
def _groups(db: Database) -> None:
    db.execute("create table public.lint_groups (id int primary key, member uuid)")
    db.execute("create index on public.lint_groups (member)")
    db.execute("alter table public.lint_groups enable row level security")
    db.execute(
        "create policy mine on public.lint_groups for select to authenticated"
        " using (member = (select auth.uid()))"
    )
    db.execute("create table public.lint_posts (id int primary key, group_id int)")
    db.execute("create index on public.lint_posts (group_id)")
    db.execute("alter table public.lint_posts enable row level security")


def test_l014_fires_on_a_membership_set_over_a_table_with_rls(db: Database) -> None:
    _groups(db)
    db.execute(
        "create policy members on public.lint_posts for select to authenticated"
        " using (group_id in (select g.id from public.lint_groups g"
        " where g.member = (select auth.uid())))"
    )
    assert policy("members", "public.lint_posts") in objects_found(db, "L014")


def test_l014_silent_on_a_lookup_by_primary_key(db: Database) -> None:
    _groups(db)
    db.execute(
        "create policy members on public.lint_posts for select to authenticated"
        " using (exists (select 1 from public.lint_groups g"
        " where g.id = lint_posts.group_id and g.member = (select auth.uid())))"
    )
    assert policy("members", "public.lint_posts") not in objects_found(db, "L014")


# L015 / L016 / L017 (policies on realtime.messages) ---------------------------------------
RM = "realtime.messages"


def test_l015_fires_on_a_realtime_policy_reading_event_or_payload(db: Database) -> None:
    db.execute(
        f"create policy lint_events on {RM} for select to authenticated"
        " using (topic = (select realtime.topic()) and event = 'message')"
    )
    db.execute(
        f"create policy lint_private on {RM} for insert to authenticated"
        " with check (topic = (select realtime.topic()) and private and extension = 'presence')"
    )
    found = objects_found(db, "L015")
    assert policy("lint_events", RM) in found
    assert policy("lint_private", RM) in found


def test_l015_silent_on_topic_extension_and_null_checks(db: Database) -> None:
    db.execute(
        f"create policy lint_presence on {RM} for insert to authenticated"
        " with check (topic = (select realtime.topic()) and extension = 'presence'"
        " and event is null and payload is null)"
    )
    assert policy("lint_presence", RM) not in objects_found(db, "L015")


def test_l016_fires_when_clients_may_insert_broadcast_rows(db: Database) -> None:
    db.execute(
        f"create policy lint_send on {RM} for insert to authenticated"
        " with check (topic = (select realtime.topic()))"
    )
    db.execute(
        f"create policy lint_both on {RM} for insert to authenticated"
        " with check (topic = (select realtime.topic())"
        " and extension in ('broadcast', 'presence'))"
    )
    found = objects_found(db, "L016")
    assert policy("lint_send", RM) in found
    assert policy("lint_both", RM) in found


def test_l016_silent_when_only_presence_is_writable(db: Database) -> None:
    db.execute(
        f"create policy lint_track on {RM} for insert to authenticated"
        " with check (topic = (select realtime.topic()) and extension = 'presence')"
    )
    assert policy("lint_track", RM) not in objects_found(db, "L016")


def test_l017_fires_when_the_topic_is_not_compared_with_realtime_topic(db: Database) -> None:
    db.execute(
        f"create policy lint_any_room on {RM} for select to authenticated"
        " using (extension = 'broadcast' and"
        " (select realtime.topic()) like 'room:%%')"
    )
    assert policy("lint_any_room", RM) in objects_found(db, "L017")


def test_l017_silent_when_topic_equals_realtime_topic(db: Database) -> None:
    db.execute(
        f"create policy lint_this_room on {RM} for select to authenticated"
        " using (realtime.topic() = topic and extension = 'broadcast')"
    )
    assert policy("lint_this_room", RM) not in objects_found(db, "L017")


# L018 -------------------------------------------------------------------------------------
def test_l018_fires_on_a_published_table_without_rls(db: Database) -> None:
    db.execute("create table public.lint_streamed (id int primary key)")
    db.execute("alter publication supabase_realtime add table public.lint_streamed")
    assert "public.lint_streamed" in objects_found(db, "L018")


def test_l018_silent_on_a_published_table_with_rls(db: Database) -> None:
    db.execute("create table public.lint_streamed2 (id int primary key)")
    db.execute("alter table public.lint_streamed2 enable row level security")
    db.execute("alter publication supabase_realtime add table public.lint_streamed2")
    assert "public.lint_streamed2" not in objects_found(db, "L018")


def test_every_rule_has_a_firing_test_here() -> None:
    from pgpolicy.analysis.lint import all_rules

    tested = {name.split("_")[1].upper() for name in globals() if name.startswith("test_l0")}
    assert {rule.id for rule in all_rules()} == tested


def test_no_rule_text_names_an_application_object() -> None:
    from pgpolicy.analysis.lint import all_rules

    for rule in all_rules():
        for text in (rule.name, rule.description, rule.remediation):
            assert "chat" not in text.lower(), f"{rule.id}: {text}"


@pytest.mark.parametrize("rule_id", ["L001", "L012"])
def test_a_disabled_rule_reports_nothing(db: Database, rule_id: str) -> None:
    db.execute("create table public.lint_off (id int primary key, owner uuid)")
    db.execute("alter table public.lint_off enable row level security")
    report = run_lint(db.conn, LintConfig(disable=frozenset({rule_id})))
    assert rule_id not in {rule.id for rule in report.rules}
    assert not [f for f in report.findings if f.rule.id == rule_id]
