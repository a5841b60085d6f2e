import Synchronization

/// One live client's queue: bounded, filled by ``LiveHub`` (never waiting), drained by the client's
/// writer, which takes everything that is waiting at once and sends it as one WebSocket frame — so a
/// client that is behind catches up with a few large writes instead of one flushed frame per
/// message.
///
/// When more than `capacity` messages are waiting the client is cut off (``overflowed``); it is then
/// told to resync and catches up from the store with `?since=`.
package final class LiveMailbox: Sendable {
    private struct State {
        var pending: [LiveMessage] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var overflowed = false
    }

    private let state = Mutex(State())
    package let capacity: Int

    package init(capacity: Int) {
        self.capacity = capacity
    }

    /// Queues messages; returns `false` (and ends the mailbox) when they do not fit.
    @discardableResult
    package func post(_ messages: [LiveMessage]) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            if state.pending.count + messages.count > capacity {
                state.overflowed = true
                state.finished = true
            } else {
                state.pending += messages
            }
            let waiter = state.waiter
            state.waiter = nil
            return (!state.overflowed, waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Ends the mailbox: the writer gets what is pending, then `nil`.
    package func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Whether the client was cut off for falling behind.
    package var overflowed: Bool { state.withLock { $0.overflowed } }

    /// Waits for messages and takes all that are waiting (in order); `nil` once the mailbox is
    /// finished and drained, or the task is cancelled. Messages posted after an overflow are not
    /// delivered: the client resyncs from the store instead.
    package func take() async -> [LiveMessage]? {
        while true {
            enum Step { case messages([LiveMessage]), done, wait }
            let step = state.withLock { state -> Step in
                if state.overflowed { return .done }
                if !state.pending.isEmpty {
                    defer { state.pending.removeAll(keepingCapacity: true) }
                    return .messages(state.pending)
                }
                return state.finished ? .done : .wait
            }
            switch step {
            case .messages(let messages): return messages
            case .done: return nil
            case .wait:
                if Task.isCancelled { return nil }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { state -> Bool in
                            if state.finished || !state.pending.isEmpty { return true }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    finish()
                }
            }
        }
    }
}
