begin;
select plan(2);

select col_is_pk('public', 'profiles', 'id', 'profiles are keyed by the user');
select ok(
  (select relrowsecurity from pg_class where oid = 'public.profiles'::regclass),
  'profiles has row level security'
);

select * from finish();
rollback;
