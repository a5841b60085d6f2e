import Foundation

/// Everything the Observatory knows about one agent session. A value: the session tracker owns the
/// live copies, the store persists them, the API and rules read them.
package struct Session: Sendable, Hashable, Codable {
    package var id: String
    package var agent: AgentKind
    package var name: String?
    package var model: String?
    package var cwd: String?
    package var firstSeen: Date
    package var statusMachine: SessionStatusMachine
    /// Totals per source; ``counters`` reconciles them.
    package var tallies: [EventSource: SessionTally]
    package var metricTotals: MetricTotals
    package var eventCount: Int

    package init(id: String, agent: AgentKind, firstSeen: Date) {
        self.id = id
        self.agent = agent
        self.firstSeen = firstSeen
        statusMachine = SessionStatusMachine(firstSeen: firstSeen)
        tallies = [:]
        metricTotals = MetricTotals()
        eventCount = 0
    }

    package var status: SessionStatus { statusMachine.status }
    package var lastSeen: Date { statusMachine.lastSeen }

    /// The session totals: for each counter, the largest any source reported (see ``EventSource``).
    package var counters: SessionCounters {
        var combined = metricTotals.tally
        for tally in tallies.values { combined = combined.fieldwiseMax(tally) }
        return SessionCounters(tally: combined, events: eventCount)
    }

    /// Takes one stored event into the session; returns whether the status changed.
    @discardableResult
    package mutating func apply(_ event: SessionEvent, receivedAt: Date) -> Bool {
        eventCount += 1
        if agent == .generic, event.agent != .generic { agent = event.agent }
        let facts = event.facts
        if let model = facts.model, !model.isEmpty { self.model = model }
        if let cwd = facts.cwd, !cwd.isEmpty { self.cwd = cwd }
        if let name = facts.sessionName, !name.isEmpty { self.name = name }
        if event.kind == .metric, let sample = facts.metric {
            metricTotals.add(sample)
        } else {
            tallies[event.source, default: SessionTally()].add(event)
        }
        return statusMachine.apply(event, receivedAt: receivedAt)
    }
}

extension Session {
    /// ``SessionStateCoding``: the fields in declaration order.
    func write(to writer: inout SessionStateCoding.Writer) {
        writer.string(id)
        writer.string(agent.rawValue)
        writer.optional(name) { $0.string($1) }
        writer.optional(model) { $0.string($1) }
        writer.optional(cwd) { $0.string($1) }
        writer.date(firstSeen)
        statusMachine.write(to: &writer)
        writer.unsigned(UInt64(tallies.count))
        for (source, tally) in tallies.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            writer.string(source.rawValue)
            tally.write(to: &writer)
        }
        metricTotals.write(to: &writer)
        writer.integer(eventCount)
    }

    init(reading reader: inout SessionStateCoding.Reader) throws(SessionStateCoding.DecodingError) {
        id = try reader.string()
        agent = try reader.rawValue(AgentKind.self)
        name = try reader.optional { reader throws(SessionStateCoding.DecodingError) in try reader.string() }
        model = try reader.optional { reader throws(SessionStateCoding.DecodingError) in try reader.string() }
        cwd = try reader.optional { reader throws(SessionStateCoding.DecodingError) in try reader.string() }
        firstSeen = try reader.date()
        statusMachine = try SessionStatusMachine(reading: &reader)
        tallies = [:]
        for _ in 0..<(try reader.count()) {
            let source = try reader.rawValue(EventSource.self)
            tallies[source] = try SessionTally(reading: &reader)
        }
        metricTotals = try MetricTotals(reading: &reader)
        eventCount = try reader.integer()
    }
}
