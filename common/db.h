/*
 * db: the SQLite state store of a daemon (STATE_DIR/<name>.db).
 *
 * One connection per process, used from the main thread only. WAL mode with
 * synchronous=NORMAL: a committed transaction survives a crash or kill -9
 * of the process (not necessarily a power loss), and writers never block
 * readers such as a test or an operator running sqlite3 on the file.
 */
#ifndef SBC_DB_H
#define SBC_DB_H

#include <sqlite3.h>
#include <stddef.h>

/* Open (create) the database at path. NULL and a reason in err on failure. */
sqlite3 *db_open(const char *path, char *err, size_t errlen);
void db_close(sqlite3 **db);

/* Run SQL without results (schema, pragmas, BEGIN/COMMIT). 0 or -1 + err. */
int db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

#endif
