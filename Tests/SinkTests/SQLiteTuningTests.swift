import CSQLiteTuning
import GRDBSQLite
import Testing

@Suite("SQLite process settings")
struct SQLiteTuningTests {
    @Test("turning allocation statistics off reaches sqlite3_config, which refuses it once SQLite is running")
    func memoryStatisticsSwitch() {
        // The store turns them off before its first connection; any test may have opened one
        // already, so only the refusal after initialization is certain here.
        #expect(sqlite3_initialize() == SQLITE_OK)
        #expect(observatory_sqlite_disable_memory_statistics() == SQLITE_MISUSE)
    }
}
