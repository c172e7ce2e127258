// The example's own database: SQLite compiled to WebAssembly (sql.js, installed from npm with nothing
// to download or compile), kept in memory and written to a file after every change (to a temporary
// file, then renamed over the old one, so a crash never leaves half a database). One process owns
// the file; writes are serialised.
import "server-only";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import initSqlJs, { type Database } from "sql.js";

// A file chosen at run time, never part of the build's output.
const FILE = process.env.DATABASE_FILE ?? path.join(/*turbopackIgnore: true*/ process.cwd(), ".data", "app.sqlite");

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT,
  first_name TEXT,
  last_name TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  title TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_by_user ON posts (user_id, created_at);
`;

// One database per process, kept on globalThis: Next.js bundles Route Handlers (the webhook route)
// apart from pages and Server Actions, and each bundle has its own copy of this module — with
// module-level state each would hold its own in-memory database and never see the other's writes.
type Shared = { opened: Promise<Database> | null; writes: Promise<unknown> };
const shared: Shared = ((globalThis as { [key: symbol]: Shared })[Symbol.for("hallpass-example.db")] ??= {
  opened: null,
  writes: Promise.resolve(),
});

function open(): Promise<Database> {
  shared.opened ??= (async () => {
    const SQL = await initSqlJs();
    const data = await readFile(/*turbopackIgnore: true*/ FILE).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return undefined;
      throw e;
    });
    const db = new SQL.Database(data);
    db.run(SCHEMA);
    return db;
  })();
  return shared.opened;
}

/** Runs `change` on the database, then saves it; changes run one at a time. */
function write<T>(change: (db: Database) => T): Promise<T> {
  const run = shared.writes.then(async () => {
    const db = await open();
    const result = change(db);
    await mkdir(path.dirname(FILE), { recursive: true });
    const temporary = `${FILE}.${process.pid}.tmp`;
    await writeFile(temporary, db.export());
    await rename(temporary, FILE);
    return result;
  });
  shared.writes = run.catch(() => undefined);
  return run;
}

function all<T>(db: Database, sql: string, params: (string | number | null)[] = []): T[] {
  const statement = db.prepare(sql);
  try {
    statement.bind(params);
    const rows: T[] = [];
    while (statement.step()) rows.push(statement.getAsObject() as T);
    return rows;
  } finally {
    statement.free();
  }
}

export type UserRow = { id: string; email: string | null; first_name: string | null; last_name: string | null; created_at: number; updated_at: number };
export type PostRow = { id: string; user_id: string; title: string; created_at: number };

export async function listUsers(): Promise<UserRow[]> {
  return all<UserRow>(await open(), "SELECT * FROM users ORDER BY created_at");
}

export function upsertUser(user: Omit<UserRow, "updated_at"> & { updated_at?: number }): Promise<void> {
  return write((db) => {
    db.run(
      `INSERT INTO users (id, email, first_name, last_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET email = excluded.email, first_name = excluded.first_name,
         last_name = excluded.last_name, updated_at = excluded.updated_at`,
      [user.id, user.email, user.first_name, user.last_name, user.created_at, user.updated_at ?? user.created_at],
    );
  });
}

export function deleteUser(id: string): Promise<void> {
  return write((db) => {
    db.run("DELETE FROM users WHERE id = ?", [id]);
    db.run("DELETE FROM posts WHERE user_id = ?", [id]);
  });
}

export async function postsOf(userId: string): Promise<PostRow[]> {
  return all<PostRow>(await open(), "SELECT * FROM posts WHERE user_id = ? ORDER BY created_at", [userId]);
}

export async function getPost(id: string): Promise<PostRow | null> {
  return all<PostRow>(await open(), "SELECT * FROM posts WHERE id = ?", [id])[0] ?? null;
}

export function insertPost(post: PostRow): Promise<void> {
  return write((db) => {
    db.run("INSERT INTO posts (id, user_id, title, created_at) VALUES (?, ?, ?, ?)", [post.id, post.user_id, post.title, post.created_at]);
  });
}

export function removePost(id: string): Promise<void> {
  return write((db) => {
    db.run("DELETE FROM posts WHERE id = ?", [id]);
  });
}
