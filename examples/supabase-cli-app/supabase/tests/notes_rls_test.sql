begin;
select plan(6);

select has_table('public', 'notes', 'the notes table exists');
select policies_are(
  'public', 'notes',
  array['authors and readers of shared notes', 'authors write their notes'],
  'notes has exactly the policies of the last migration'
);
select results_eq(
  'select name from public.categories order by id',
  array['work', 'home; garden'],
  'the seed was applied'
);

insert into auth.users (id, email) values
  ('00000000-0000-0000-0000-0000000000a1', 'alice@example.com'),
  ('00000000-0000-0000-0000-0000000000b2', 'bob@example.com');

set local role authenticated;
set local request.jwt.claims = '{"sub": "00000000-0000-0000-0000-0000000000a1", "role": "authenticated"}';
insert into public.notes (body, shared) values ('private', false), ('public', true);
select is(public.my_note_count(), 2::bigint, 'alice sees both of her notes');

set local request.jwt.claims = '{"sub": "00000000-0000-0000-0000-0000000000b2", "role": "authenticated"}';
select results_eq(
  'select body from public.notes',
  array['public'],
  'bob sees only the shared note'
);
select throws_ok(
  $$insert into public.notes (author_id, body)
    values ('00000000-0000-0000-0000-0000000000a1', 'forged')$$,
  '42501',
  null,
  'bob cannot write a note as alice'
);

select * from finish();
rollback;
