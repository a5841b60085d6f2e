/// The life of one alert instance, Prometheus/Grafana style (rules-dsl.md §3.6):
///
/// ```
/// inactive ─true─▶ pending ─held for `for`─▶ firing ─false─▶ recovering ─false for keep_firing_for─▶ resolved
///     ▲              │ false/unknown            ▲                │ true                               │ true
///     └──────────────┘                          └────────────────┘                                    ▼ (next episode)
/// ```
///
/// Pure: no clock, no I/O. Every input carries the monotonic instant; every method returns the
/// ``Action`` the owner turns into alert events and notifications.
package struct AlertStateMachine: Sendable, Hashable, Codable {
    package enum State: String, Sendable, Hashable, Codable {
        case inactive, pending, firing, recovering, resolved

        package var isActive: Bool { self == .firing || self == .recovering }
    }

    /// What a transition means to the outside.
    package enum Action: Sendable, Hashable {
        case none
        case pending
        case firing
        case resolved
        /// Pending and the condition stopped holding: dropped without a notification.
        case pendingDropped
        /// Firing, but the (changed) `for` is no longer met: back to pending without a notification.
        case backToPending
    }

    /// The timing of a level-triggered rule.
    package struct Timing: Sendable, Hashable {
        package var forDuration: Duration
        package var keepFiringFor: Duration

        package init(forDuration: Duration, keepFiringFor: Duration) {
            self.forDuration = forDuration
            self.keepFiringFor = keepFiringFor
        }
    }

    package private(set) var state = State.inactive
    /// When the condition started holding (kept across a `for` change, rules-dsl.md §3.11).
    package private(set) var activeSince: Duration?
    package private(set) var firingSince: Duration?
    /// When the condition stopped holding while firing.
    package private(set) var recoveringSince: Duration?
    package private(set) var resolvedAt: Duration?
    /// Increments each time the instance enters `firing`.
    package private(set) var episode = 0
    /// Matching events (event rules) or holding evaluations since the episode began.
    package private(set) var count = 0
    /// Last matching event (event rules).
    package private(set) var lastMatch: Duration?

    package init() {}

    /// Restores a firing instance (after a restart), without a transition.
    package init(restoredFiring episode: Int, count: Int, activeSince: Duration, firingSince: Duration, lastMatch: Duration?) {
        state = .firing
        self.episode = episode
        self.count = count
        self.activeSince = activeSince
        self.firingSince = firingSince
        self.lastMatch = lastMatch
    }

    /// One evaluation of a level-triggered condition (state, window, absence).
    /// - Parameters:
    ///   - truth: the condition now. `unknown` resets a pending instance but does not start the
    ///     resolution of a firing one (a data gap is not a recovery).
    ///   - resolveAllowed: `resolve_when` holds (true when the rule has none).
    package mutating func evaluate(_ truth: Truth, resolveAllowed: Bool = true, at now: Duration, timing: Timing) -> Action {
        switch (state, truth) {
        case (.inactive, .true), (.resolved, .true):
            activeSince = now
            recoveringSince = nil
            if timing.forDuration <= .zero { return fire(at: now) }
            state = .pending
            return .pending
        case (.pending, .true):
            return now - (activeSince ?? now) >= timing.forDuration ? fire(at: now) : .none
        case (.pending, _):
            state = .inactive
            activeSince = nil
            return .pendingDropped
        case (.firing, .true), (.recovering, .true):
            state = .firing
            recoveringSince = nil
            count += 1
            if let activeSince, now - activeSince < timing.forDuration {
                state = .pending
                firingSince = nil
                return .backToPending
            }
            return .none
        case (.firing, .false):
            guard resolveAllowed else { return .none }
            if timing.keepFiringFor <= .zero { return resolve(at: now) }
            state = .recovering
            recoveringSince = now
            return .none
        case (.recovering, .false):
            guard resolveAllowed else {
                state = .firing
                recoveringSince = nil
                return .none
            }
            return now - (recoveringSince ?? now) >= timing.keepFiringFor ? resolve(at: now) : .none
        case (.firing, .unknown), (.recovering, .unknown), (.inactive, _), (.resolved, _):
            return .none
        }
    }

    /// A matching event of an edge-triggered (`event`) rule.
    package mutating func matched(at now: Duration) -> Action {
        lastMatch = now
        if state == .firing {
            count += 1
            return .none
        }
        activeSince = now
        count = 1
        return fire(at: now)
    }

    /// The passage of time for an event rule: resolves `resolveAfter` after the last match.
    package mutating func expire(at now: Duration, resolveAfter: Duration) -> Action {
        guard state == .firing, let lastMatch, now - lastMatch >= resolveAfter else { return .none }
        return resolve(at: now)
    }

    /// Ends the instance from outside (session ended, rule changed or removed): pending is dropped,
    /// firing resolves. The caller decides whether that notifies.
    package mutating func end(at now: Duration) -> Action {
        switch state {
        case .pending:
            state = .inactive
            activeSince = nil
            return .pendingDropped
        case .firing, .recovering:
            return resolve(at: now)
        case .inactive, .resolved:
            return .none
        }
    }

    private mutating func fire(at now: Duration) -> Action {
        state = .firing
        episode += 1
        firingSince = now
        recoveringSince = nil
        resolvedAt = nil
        if count == 0 { count = 1 }
        return .firing
    }

    private mutating func resolve(at now: Duration) -> Action {
        state = .resolved
        resolvedAt = now
        activeSince = nil
        recoveringSince = nil
        count = 0
        return .resolved
    }
}
