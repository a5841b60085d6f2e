import Foundation
import SinkCore

/// One message of the live WebSocket feed, encoded once and sent to every client as it is.
///
/// Types (all JSON objects with a `type`):
/// - `snapshot` `{seq, sessions, alerts, replayTruncated}`: always first; replaces the client's state.
/// - `event` `{seq, event}`: an event stored with sequence `seq` (strictly increasing).
/// - `session` `{seq, session}`: a session's new state; `seq` is the latest event seq at the time.
/// - `alert` `{alert}`: an alert instance changed.
/// - `resync` `{reason}`: the client fell behind; the server closes, the client reconnects with `?since=`.
/// - `batch` `{messages: [...]}`: several of the above in order, in one frame (what was waiting for
///   the client when it could write again; see ``frames(_:)``).
package struct LiveMessage: Sendable {
    /// The event sequence number, for `event` messages (used to skip what a replay already sent).
    package var eventSeq: Int64?
    package var text: String

    package init(eventSeq: Int64?, text: String) {
        self.eventSeq = eventSeq
        self.text = text
    }

    /// An `event` message. Written without `JSONEncoder`: this runs once per stored event.
    package static func event(_ stored: StoredEvent) -> LiveMessage {
        var writer = JSONText()
        writer.beginObject()
        writer.key("type"); writer.string("event")
        writer.key("seq"); writer.integer(stored.seq)
        writer.key("event"); writeEvent(stored, into: &writer)
        writer.endObject()
        return LiveMessage(eventSeq: stored.seq, text: writer.text)
    }

    /// The event as the REST API shows it (`APIRepresentation.EventBody`), keys sorted alike.
    static func writeEvent(_ stored: StoredEvent, into writer: inout JSONText) {
        let event = stored.event
        writer.beginObject()
        writer.key("agent"); writer.string(event.agent.rawValue)
        let payload = event.payload
        writer.key("attributes"); writer.raw(utf8: payload.attributesUTF8)
        writer.key("facts"); writer.raw(utf8: payload.factsUTF8)
        writer.key("kind"); writer.string(event.kind.rawValue)
        writer.key("name"); writer.string(event.name)
        writer.key("receivedAt"); writer.string(APIRepresentation.timestamp(stored.receivedAt))
        writer.key("seq"); writer.integer(stored.seq)
        writer.key("sessionId"); writer.string(event.sessionID)
        writer.key("source"); writer.string(event.source.rawValue)
        writer.key("time"); writer.string(APIRepresentation.timestamp(event.time))
        writer.endObject()
    }

    package static func session(_ session: Session, seq: Int64) -> LiveMessage {
        LiveMessage(eventSeq: nil, text: envelope(type: "session", seq: seq, key: "session", value: APIRepresentation.SessionBody(session)))
    }

    package static func alert(_ alert: AlertSnapshot) -> LiveMessage {
        LiveMessage(eventSeq: nil, text: envelope(type: "alert", seq: nil, key: "alert", value: alert))
    }

    package static func snapshot(seq: Int64, sessions: [Session], alerts: [AlertSnapshot], replayTruncated: Bool) -> LiveMessage {
        struct Snapshot: Encodable {
            var type = "snapshot"
            var seq: Int64
            var sessions: [APIRepresentation.SessionBody]
            var alerts: [AlertSnapshot]
            var replayTruncated: Bool
        }
        let body = Snapshot(
            seq: seq, sessions: sessions.map(APIRepresentation.SessionBody.init), alerts: alerts, replayTruncated: replayTruncated)
        return LiveMessage(eventSeq: nil, text: encode(body))
    }

    /// Most messages in one `batch` frame, and its largest size in bytes (one message larger than
    /// that still goes out, alone).
    package static let maxBatchMessages = 500
    package static let maxBatchBytes = 256 * 1024

    /// The WebSocket frames for `messages`, in order: a single message as itself, several as
    /// `{"type": "batch", "messages": [...]}` frames of at most ``maxBatchMessages`` messages and
    /// ``maxBatchBytes`` bytes.
    package static func frames(_ messages: [LiveMessage]) -> [String] {
        var frames: [String] = []
        var group: [String] = []
        var size = 0
        func close() {
            if group.count == 1 {
                frames.append(group[0])
            } else if group.count > 1 {
                frames.append("{\"type\":\"batch\",\"messages\":[" + group.joined(separator: ",") + "]}")
            }
            group.removeAll(keepingCapacity: true)
            size = 0
        }
        for message in messages {
            let length = message.text.utf8.count
            if !group.isEmpty, group.count >= maxBatchMessages || size + length > maxBatchBytes { close() }
            group.append(message.text)
            size += length + 1
        }
        close()
        return frames
    }

    package static func resync(reason: String) -> LiveMessage {
        var writer = JSONText()
        writer.beginObject()
        writer.key("type"); writer.string("resync")
        writer.key("reason"); writer.string(reason)
        writer.endObject()
        return LiveMessage(eventSeq: nil, text: writer.text)
    }

    private static func envelope(type: String, seq: Int64?, key: String, value: some Encodable) -> String {
        var writer = JSONText()
        writer.beginObject()
        writer.key("type"); writer.string(type)
        if let seq { writer.key("seq"); writer.integer(seq) }
        writer.key(key); writer.raw(encode(value))
        writer.endObject()
        return writer.text
    }

    private static func encode(_ value: some Encodable) -> String {
        (try? APIRepresentation.encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
