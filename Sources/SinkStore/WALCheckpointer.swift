import Dispatch
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log into the database on a thread of its own, so that the single writer,
/// which every acknowledgement waits for, does not stop for a checkpoint's copying and fsyncs.
///
/// SQLite's automatic checkpoint (`wal_autocheckpoint`) runs on the committing connection, right
/// after the commit that took the WAL past its limit: the writer reads the new frames back, writes
/// them into the database and fsyncs the WAL and the database before it can take the next group
/// of events. Under a steady load that blocked the writer for about a sixth of the time.
///
/// Here the writer's WAL hook (`sqlite3_wal_hook`, which replaces the automatic checkpoint) only
/// looks at the WAL's size after each commit:
/// - every ``Policy/backgroundPages`` new frames it asks this checkpointer for a `PASSIVE`
///   checkpoint on its own connection; a checkpoint runs concurrently with new commits (SQLite,
///   "Write-Ahead Logging" §4, Checkpointing);
/// - past ``Policy/restartPages`` the writer runs a `PASSIVE` checkpoint itself. By then the
///   background has copied nearly all frames, so the writer copies only the last ones. This step
///   is needed: a WAL starts again from its beginning only when a transaction begins after a
///   checkpoint copied all of it, and under continuous commits the background never catches up
///   with the newest frame, so the WAL would grow without bound. When a background checkpoint
///   holds the lock (`SQLITE_BUSY`) the next commit tries again; past twice ``Policy/restartPages``
///   the writer waits for the background one to end, so the WAL never passes about twice that.
///
/// Durability does not change: a commit is in the WAL before the sink answers, and a checkpoint
/// only moves committed frames (with the same `synchronous` setting as the writer).
package final class WALCheckpointer: Sendable {
    /// When checkpoints happen, in WAL frames (one frame per database page, 4 KiB by default).
    package struct Policy: Sendable, Hashable {
        /// New frames after which the background checkpointer runs.
        package var backgroundPages: Int32
        /// Frames in the WAL after which the writer finishes the checkpoint itself, so the WAL
        /// starts again from its beginning.
        package var restartPages: Int32

        package init(backgroundPages: Int32 = 1_000, restartPages: Int32 = 8_000) {
            self.backgroundPages = max(1, backgroundPages)
            self.restartPages = max(self.backgroundPages, restartPages)
        }
    }

    /// How many checkpoints ran, and where.
    package struct Counts: Sendable, Hashable {
        /// `PASSIVE` checkpoints on the background connection.
        package var background = 0
        /// Checkpoints the writer finished itself (``Policy/restartPages``).
        package var onWriter = 0
        /// Checkpoints that could not run or failed (another checkpoint was running, an I/O
        /// error); the next commit asks again.
        package var failed = 0
    }

    private struct State {
        var counts = Counts()
        /// A background checkpoint is queued or running.
        var scheduled = false
        /// WAL size when the background checkpointer was last asked.
        var framesAtLastRequest: Int32 = 0
    }

    private let path: String
    private let synchronous: String
    private let policy: Policy
    private let queue = DispatchQueue(label: "observatory.sqlite.checkpointer")
    private let state = Mutex(State())
    /// The background connection, opened on first use; only touched on ``queue`` (and in `deinit`).
    nonisolated(unsafe) private var connection: OpaquePointer?

    /// - Parameters:
    ///   - path: the database file the writer commits to.
    ///   - synchronous: the writer's `PRAGMA synchronous` value (`NORMAL`, `FULL`).
    package init(path: String, synchronous: String, policy: Policy = .init()) {
        self.path = path
        self.synchronous = synchronous
        self.policy = policy
    }

    deinit {
        if let connection { sqlite3_close_v2(connection) }
    }

    package var counts: Counts { state.withLock { $0.counts } }

    /// Installs the hook on the writer's connection. The hook holds this checkpointer unretained:
    /// whoever installs it keeps the checkpointer alive for as long as the connection is open.
    package func install(onWriter connection: OpaquePointer) {
        sqlite3_wal_hook(
            connection,
            { context, connection, _, frames in
                guard let context, let connection else { return SQLITE_OK }
                Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
                    .committed(writer: connection, walFrames: frames)
                return SQLITE_OK
            },
            Unmanaged.passUnretained(self).toOpaque())
    }

    /// Waits until no background checkpoint is queued or running.
    package func waitUntilIdle() {
        queue.sync {}
    }

    /// Called on the writer after each commit with the number of frames in the WAL.
    private func committed(writer: OpaquePointer, walFrames: Int32) {
        if walFrames >= policy.restartPages {
            var code = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            if code == SQLITE_BUSY, walFrames >= policy.restartPages.multipliedReportingOverflow(by: 2).partialValue {
                // A background checkpoint has held the checkpoint lock while the WAL doubled (a
                // starved machine): wait for it, so the WAL stays bounded.
                queue.sync {}
                code = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
            state.withLock { state in
                if code == SQLITE_OK { state.counts.onWriter += 1 } else { state.counts.failed += 1 }
                state.framesAtLastRequest = 0
            }
            return
        }
        let request = state.withLock { state -> Bool in
            // The WAL started again from its beginning since the last request.
            if walFrames < state.framesAtLastRequest { state.framesAtLastRequest = 0 }
            guard !state.scheduled, walFrames - state.framesAtLastRequest >= policy.backgroundPages else { return false }
            state.scheduled = true
            state.framesAtLastRequest = walFrames
            return true
        }
        if request { queue.async { self.checkpointInBackground() } }
    }

    private func checkpointInBackground() {
        if connection == nil { connection = openConnection() }
        var code = SQLITE_CANTOPEN
        if let connection {
            code = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        }
        state.withLock { state in
            state.scheduled = false
            if code == SQLITE_OK { state.counts.background += 1 } else { state.counts.failed += 1 }
        }
    }

    private func openConnection() -> OpaquePointer? {
        var connection: OpaquePointer?
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
            let connection
        else {
            sqlite3_close_v2(connection)
            return nil
        }
        // The checkpointing connection's own setting decides whether a checkpoint fsyncs.
        guard sqlite3_exec(connection, "PRAGMA synchronous = \(synchronous)", nil, nil, nil) == SQLITE_OK else {
            sqlite3_close_v2(connection)
            return nil
        }
        return connection
    }
}
