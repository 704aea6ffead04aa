-- Refuses a new message in a thread one of whose participants deleted their account (that
-- side is NULL on the thread and, by the participants foreign key, on the message): the
-- remaining participant keeps reading the conversation, and nobody adds to it.
-- An AFTER trigger, so a direct insert meets the insert policy first: a caller who is not a
-- participant is told 42501, as for any thread, and learns nothing about this one. The
-- message already carries its thread's participants (fill_chat_message_participants), so
-- the check reads no other row.
create or replace function public.refuse_chat_message_to_departed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.user_a_supabase_id is null or new.user_b_supabase_id is null then
    raise exception 'the other participant has deleted their account'
      using errcode = '23503',
            hint = 'The conversation stays readable but takes no new messages.';
  end if;
  return null;
end;
$$;

comment on function public.refuse_chat_message_to_departed() is
  'Trigger on public.chat_messages: no new message in a thread a participant has left.';

revoke execute on function public.refuse_chat_message_to_departed()
  from public, anon, authenticated;

create or replace trigger refuse_chat_message_to_departed
  after insert
  on public.chat_messages
  for each row
  execute function public.refuse_chat_message_to_departed();
