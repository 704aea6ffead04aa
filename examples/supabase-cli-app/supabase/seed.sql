-- Reference data every environment has ('; inside a string is not a statement end).
insert into public.categories (id, name) values
  (1, 'work'),
  (2, 'home; garden');
