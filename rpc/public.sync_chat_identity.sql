-- Keeps public.chat_identities in step with auth.users.raw_app_meta_data ->> 'mongoUserId'.
-- App metadata is server-controlled; raw_user_meta_data is user-editable and never read here.
create or replace function public.sync_chat_identity()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  _mongo_id text := new.raw_app_meta_data ->> 'mongoUserId';
begin
  -- A removed or blank id unlinks the user: as when the account is deleted, the user leaves
  -- each thread (its side becomes NULL) and the other participant keeps the conversation.
  -- Blank: no character outside whitespace, Unicode spaces listed so no locale changes it.
  if _mongo_id is null or _mongo_id !~ (
    '[^[:space:]\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]'
  ) then
    delete from public.chat_identities i
    where i.user_id = new.id;
    return null;
  end if;

  -- A malformed id fails the check constraint (23514); changing an id that threads use
  -- fails their foreign keys (23503): both refuse the auth.users write rather than drift.
  insert into public.chat_identities as i (user_id, mongo_id)
  values (new.id, _mongo_id)
  on conflict (user_id) do update
    set mongo_id = excluded.mongo_id
    where i.mongo_id is distinct from excluded.mongo_id;
  return null;
end;
$$;

comment on function public.sync_chat_identity() is
  'Trigger on auth.users: links a user to the Mongo id in raw_app_meta_data.mongoUserId.';

-- Only the trigger calls it; Supabase's defaults would let every API role execute it.
revoke execute on function public.sync_chat_identity() from public, anon, authenticated;

create or replace trigger sync_chat_identity
  after insert or update of raw_app_meta_data
  on auth.users
  for each row
  execute function public.sync_chat_identity();
