#ifndef C_SQLITE_TUNING_H
#define C_SQLITE_TUNING_H

/// Turns off SQLite's allocation statistics (`sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)`).
///
/// With them on (the default of most builds, Debian's among them) every `sqlite3_malloc` and
/// `sqlite3_free` takes one process-wide mutex to keep the counters behind
/// `sqlite3_memory_used()`, which the sink never reads. `sqlite3_config` is variadic, which Swift
/// cannot call, hence this C function. It works only before SQLite initializes (before the first
/// connection opens); returns `SQLITE_OK` (0) when it took effect, `SQLITE_MISUSE` (21) when
/// SQLite was already initialized.
int observatory_sqlite_disable_memory_statistics(void);

#endif
