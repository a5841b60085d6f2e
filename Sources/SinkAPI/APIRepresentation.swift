import Foundation
import SinkCore

/// The JSON shapes of the REST API (camelCase keys, ISO-8601 times with milliseconds).
package enum APIRepresentation {
    struct SessionBody: Encodable {
        var id: String
        var agent: String
        var name: String?
        var model: String?
        var cwd: String?
        var status: String
        var statusReason: String
        var statusSince: String
        var firstSeen: String
        var lastSeen: String
        var lastProgress: String?
        var counters: SessionCounters

        private enum CodingKeys: String, CodingKey {
            case id, agent, name, model, cwd, status, statusReason, statusSince, firstSeen, lastSeen, lastProgress, counters
        }

        /// Absent values are written as `null`, so every key is always present.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(agent, forKey: .agent)
            try container.encode(name, forKey: .name)
            try container.encode(model, forKey: .model)
            try container.encode(cwd, forKey: .cwd)
            try container.encode(status, forKey: .status)
            try container.encode(statusReason, forKey: .statusReason)
            try container.encode(statusSince, forKey: .statusSince)
            try container.encode(firstSeen, forKey: .firstSeen)
            try container.encode(lastSeen, forKey: .lastSeen)
            try container.encode(lastProgress, forKey: .lastProgress)
            try container.encode(counters, forKey: .counters)
        }

        init(_ session: Session) {
            id = session.id
            agent = session.agent.rawValue
            name = session.name
            model = session.model
            cwd = session.cwd
            status = session.status.rawValue
            statusReason = session.statusMachine.reason
            statusSince = timestamp(session.statusMachine.since)
            firstSeen = timestamp(session.firstSeen)
            lastSeen = timestamp(session.lastSeen)
            lastProgress = session.statusMachine.lastProgress.map(timestamp)
            counters = session.counters
        }
    }

    struct SessionList: Encodable {
        var sessions: [SessionBody]
    }

    struct EventBody: Encodable {
        var seq: Int64
        var sessionId: String
        var agent: String
        var kind: String
        var name: String
        var source: String
        var time: String
        var receivedAt: String
        var facts: EventFacts
        var attributes: EventAttributes

        init(_ stored: StoredEvent) {
            seq = stored.seq
            sessionId = stored.event.sessionID
            agent = stored.event.agent.rawValue
            kind = stored.event.kind.rawValue
            name = stored.event.name
            source = stored.event.source.rawValue
            time = timestamp(stored.event.time)
            receivedAt = timestamp(stored.receivedAt)
            facts = stored.event.facts
            attributes = stored.event.attributes
        }
    }

    struct EventList: Encodable {
        var events: [EventBody]
        /// Pass as `after` to get the next page.
        var nextAfter: Int64
    }

    struct Problem: Encodable {
        var error: String
    }

    /// Encodes API bodies: sorted keys, dates as ISO-8601 text with milliseconds.
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }()

    package static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

private func timestamp(_ date: Date) -> String { APIRepresentation.timestamp(date) }
