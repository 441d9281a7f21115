import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time (see the initial migration). The compose box's ticket search (issue 16): a full-text
// index over each ticket's reference, subject and requester (name and email), kept in step with
// `tickets` and `people` by triggers, so no code path that writes a ticket has to remember it.
//
// SQLite: an FTS5 table (https://www.sqlite.org/fts5.html) whose rowid is the ticket id; unicode61
// folds case and diacritics; prefix indexes of 1 to 3 characters keep as-you-type prefix queries off a
// scan of the whole term list. `requester_key` (`r<person id>`) lets a requester's search be one FTS
// query ("theirs AND these words"): asking the index about each of their tickets in turn, or walking
// every match of a common word to find theirs, each cost hundreds of milliseconds at 100,000 tickets. Its `rank` is bm25 with the reference weighted above the subject, the
// subject above the requester (https://www.sqlite.org/fts5.html#the_bm25_function).
//
// Postgres: a plain table with a generated tsvector column and a GIN index
// (https://www.postgresql.org/docs/current/textsearch-tables.html). A generated column on `tickets`
// itself cannot hold the requester's name (it lives in `people`), hence the side table. The 'simple'
// configuration: no stemming or stop words, as references, names and emails are not English prose.
// Punctuation becomes spaces first, so `INC-42` and `megan@contoso.com` split into the same words as
// SQLite's tokenizer makes of them (Postgres' parser would otherwise keep an email as one token).

export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await upPostgres(db);
  else await upSqlite(db);
  // A search for a status ("pending") lists that status most recently updated first: without this
  // index it sorts every ticket of the status (tens of milliseconds at 100,000 tickets); the
  // is_open indexes serve "open" and "done".
  await db.schema.createIndex('tickets_status_recent').on('tickets').columns(['status', 'updated_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tickets_status_recent').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`drop trigger if exists ticket_search_requester on people`.execute(db);
    await sql`drop trigger if exists ticket_search_update on tickets`.execute(db);
    await sql`drop trigger if exists ticket_search_insert on tickets`.execute(db);
    await sql`drop function if exists ticket_search_requester()`.execute(db);
    await sql`drop function if exists ticket_search_sync()`.execute(db);
    await sql`drop table if exists ticket_search`.execute(db);
    return;
  }
  for (const trigger of ['ticket_search_requester', 'ticket_search_delete', 'ticket_search_update', 'ticket_search_insert']) {
    await sql`drop trigger if exists ${sql.id(trigger)}`.execute(db);
  }
  await sql`drop table if exists ticket_search`.execute(db);
}

/** What the index holds of the requester: "name email", as one text. */
const SQLITE_REQUESTER = (personId: string) => `coalesce((select coalesce(name, '') || ' ' || coalesce(email, '') from people where id = ${personId}), '')`;

async function upSqlite(db: Kysely<any>): Promise<void> {
  await sql`create virtual table ticket_search using fts5(
    ticket_id unindexed, reference, subject, requester, requester_key,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
  )`.execute(db);
  // Column weights in column order (ticket_id is not indexed, and requester_key only narrows, so
  // neither counts towards relevance).
  await sql`insert into ticket_search(ticket_search, rank) values ('rank', 'bm25(0.0, 10.0, 4.0, 2.0, 0.0)')`.execute(db);
  await sql
    .raw(
      `insert into ticket_search(rowid, ticket_id, reference, subject, requester, requester_key)
       select t.id, t.id, t.reference, t.subject, ${SQLITE_REQUESTER('t.requester_id')}, 'r' || t.requester_id from tickets t`,
    )
    .execute(db);
  // One b-tree instead of the segments a bulk insert leaves (https://www.sqlite.org/fts5.html#the_optimize_command).
  await sql`insert into ticket_search(ticket_search) values ('optimize')`.execute(db);
  await sql
    .raw(
      `create trigger ticket_search_insert after insert on tickets begin
         insert into ticket_search(rowid, ticket_id, reference, subject, requester, requester_key)
         values (new.id, new.id, new.reference, new.subject, ${SQLITE_REQUESTER('new.requester_id')}, 'r' || new.requester_id);
       end`,
    )
    .execute(db);
  // SQLite fires "update of" triggers whenever the column is in the SET list, changed or not: the WHEN
  // keeps a status change from rewriting the ticket's index entry.
  await sql
    .raw(
      `create trigger ticket_search_update after update of reference, subject, requester_id on tickets
       when old.reference is not new.reference or old.subject is not new.subject or old.requester_id is not new.requester_id
       begin
         delete from ticket_search where rowid = old.id;
         insert into ticket_search(rowid, ticket_id, reference, subject, requester, requester_key)
         values (new.id, new.id, new.reference, new.subject, ${SQLITE_REQUESTER('new.requester_id')}, 'r' || new.requester_id);
       end`,
    )
    .execute(db);
  await sql.raw(`create trigger ticket_search_delete after delete on tickets begin delete from ticket_search where rowid = old.id; end`).execute(db);
  // A person seen again under a new display name or email: their tickets are found by the new one.
  await sql
    .raw(
      `create trigger ticket_search_requester after update of name, email on people
       when old.name is not new.name or old.email is not new.email
       begin
         update ticket_search set requester = coalesce(new.name, '') || ' ' || coalesce(new.email, '')
         where rowid in (select id from tickets where requester_id = new.id);
       end`,
    )
    .execute(db);
}

async function upPostgres(db: Kysely<any>): Promise<void> {
  await sql`create table ticket_search (
    ticket_id bigint primary key references tickets(id) on delete cascade,
    reference text not null,
    subject text not null,
    requester text not null,
    document tsvector generated always as (
      setweight(to_tsvector('simple', regexp_replace(reference, '[^[:alnum:]]+', ' ', 'g')), 'A') ||
      setweight(to_tsvector('simple', regexp_replace(subject, '[^[:alnum:]]+', ' ', 'g')), 'B') ||
      setweight(to_tsvector('simple', regexp_replace(requester, '[^[:alnum:]]+', ' ', 'g')), 'C')
    ) stored
  )`.execute(db);
  await sql`create index ticket_search_document on ticket_search using gin (document)`.execute(db);
  await sql`insert into ticket_search (ticket_id, reference, subject, requester)
    select t.id, t.reference, t.subject, coalesce(p.name, '') || ' ' || coalesce(p.email, '')
    from tickets t left join people p on p.id = t.requester_id`.execute(db);
  await sql`create function ticket_search_sync() returns trigger language plpgsql as $$
    begin
      insert into ticket_search (ticket_id, reference, subject, requester)
      values (new.id, new.reference, new.subject,
              coalesce((select coalesce(name, '') || ' ' || coalesce(email, '') from people where id = new.requester_id), ''))
      on conflict (ticket_id) do update set reference = excluded.reference, subject = excluded.subject, requester = excluded.requester;
      return null;
    end
  $$`.execute(db);
  await sql`create trigger ticket_search_insert after insert on tickets for each row execute function ticket_search_sync()`.execute(db);
  await sql`create trigger ticket_search_update after update of reference, subject, requester_id on tickets for each row
    when (old.reference is distinct from new.reference or old.subject is distinct from new.subject or old.requester_id is distinct from new.requester_id)
    execute function ticket_search_sync()`.execute(db);
  await sql`create function ticket_search_requester() returns trigger language plpgsql as $$
    begin
      update ticket_search s set requester = coalesce(new.name, '') || ' ' || coalesce(new.email, '')
      from tickets t where t.id = s.ticket_id and t.requester_id = new.id;
      return null;
    end
  $$`.execute(db);
  await sql`create trigger ticket_search_requester after update of name, email on people for each row
    when (old.name is distinct from new.name or old.email is distinct from new.email)
    execute function ticket_search_requester()`.execute(db);
}
