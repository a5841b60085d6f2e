import Foundation
import Hummingbird
import NIOCore
import SinkCore
import SinkRules

/// The rule engine's API:
///
/// - `GET /api/rules` → `{"directory", "loadedAt", "rules": [...], "files": [...], "problems": [diagnostic]}`
/// - `GET /api/alerts` → `{"alerts": [AlertSnapshot]}`: active ones and those resolved in the last 15 min
/// - `POST /api/alerts/{id}/ack` → the alert; stops its reminders for this episode (404 if not active)
/// - `GET /api/silences` → `{"silences": [Silence]}`
/// - `POST /api/silences` `{"matchers": [{"name": "rule", "op": "=", "value": "agent-stalled"}], "for": "1h" | "endsAt": ISO-8601, "comment": "…"}`
///   (shorthand: `"rule"`, `"session"` instead of `matchers`) → `201` with the silence
/// - `DELETE /api/silences/{id}` → `204` (404 if unknown)
package struct RulesRoutes: Sendable {
    private let engine: RuleEngine

    package init(engine: RuleEngine) {
        self.engine = engine
    }

    package func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/rules") { _, _ in
            Self.json(RulesBody(await engine.rulesStatus()))
        }
        router.get("/api/alerts") { _, _ in
            Self.json(["alerts": await engine.alerts()])
        }
        router.post("/api/alerts/:id/ack") { _, context in
            let id = try Self.decodedParameter(context, "id")
            guard await engine.acknowledge(alertID: id), let alert = await engine.alerts().first(where: { $0.id == id }) else {
                return Self.json(["error": "no active alert \(id)"], status: .notFound)
            }
            return Self.json(alert)
        }
        router.get("/api/silences") { _, _ in
            Self.json(["silences": await engine.silences()])
        }
        router.post("/api/silences") { request, context in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let input: SilenceInput
            do {
                input = try JSONDecoder().decode(SilenceInput.self, from: Data(body.readableBytesView))
            } catch {
                return Self.json(["error": "the body must be a JSON silence: \(error)"], status: .badRequest)
            }
            switch input.silence(now: await engine.now) {
            case .success(let silence):
                await engine.addSilence(silence)
                return Self.json(silence, status: .created)
            case .failure(let problem):
                return Self.json(["error": problem.message], status: .badRequest)
            }
        }
        router.delete("/api/silences/:id") { _, context in
            let id = try Self.decodedParameter(context, "id")
            guard await engine.removeSilence(id: id) else {
                return Self.json(["error": "no silence \(id)"], status: .notFound)
            }
            return Response(status: .noContent)
        }
    }

    private static func decodedParameter(_ context: some RequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// `GET /api/rules`.
struct RulesBody: Encodable {
    struct RuleBody: Encodable {
        var id: String
        var name: String
        var description: String?
        var file: String
        var line: Int
        var severity: String
        var mode: String
        var trigger: String
        var inhibitedBy: [String]
        /// Evaluations whose result was unknown (a missing field), since the sink started.
        var unknownEvaluations: Int
        /// Pushes held back (shadow, silenced, inhibited, flapping, cooldown, acknowledged).
        var suppressedNotifications: Int
    }

    var directory: String
    var loadedAt: Date
    var rules: [RuleBody]
    var files: [RuleLoader.FileReport]
    var problems: [RuleDiagnostic]

    init(_ status: RuleEngine.RulesStatus) {
        directory = status.directory
        loadedAt = status.loadedAt
        rules = status.rules.map {
            RuleBody(
                id: $0.id, name: $0.name, description: $0.description, file: $0.file, line: $0.line, severity: $0.severity.rawValue,
                mode: $0.mode.rawValue, trigger: $0.trigger.name, inhibitedBy: $0.inhibitedBy,
                unknownEvaluations: status.unknownEvaluations[$0.id] ?? 0,
                suppressedNotifications: status.suppressedNotifications[$0.id] ?? 0)
        }
        files = status.files
        problems = status.diagnostics
    }
}

/// The body of `POST /api/silences`.
struct SilenceInput: Decodable {
    var matchers: [Silence.Matcher]?
    var rule: String?
    var session: String?
    /// A duration from now (`1h`, `30m`).
    var `for`: String?
    var endsAt: Date?
    var comment: String?
    var createdBy: String?

    struct Problem: Error {
        var message: String
    }

    func silence(now: Date) -> Result<Silence, Problem> {
        var all = matchers ?? []
        if let rule { all.append(Silence.Matcher(name: "rule", op: .equal, value: rule)) }
        if let session { all.append(Silence.Matcher(name: "session", op: .equal, value: session)) }
        guard !all.isEmpty else { return .failure(Problem(message: "a silence needs matchers (or rule / session)")) }
        if let problem = all.compactMap(\.problem).first { return .failure(Problem(message: problem)) }
        let end: Date
        if let endsAt {
            end = endsAt
        } else if let text = self.for {
            guard let duration = DurationText.parse(text), duration > .zero else {
                return .failure(Problem(message: "for: invalid duration '\(text)'; use a form like 30m, 1h, 2h30m"))
            }
            end = now.addingTimeInterval(duration.seconds)
        } else {
            return .failure(Problem(message: "a silence needs 'for' (a duration) or 'endsAt' (ISO-8601)"))
        }
        guard end > now else { return .failure(Problem(message: "the silence would end in the past")) }
        return .success(Silence(id: UUID().uuidString.lowercased(), matchers: all, startsAt: now, endsAt: end, comment: comment ?? "", createdBy: createdBy ?? "api"))
    }

    enum CodingKeys: String, CodingKey {
        case matchers, rule, session, `for`, endsAt, comment, createdBy
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        matchers = try container.decodeIfPresent([Silence.Matcher].self, forKey: .matchers)
        rule = try container.decodeIfPresent(String.self, forKey: .rule)
        session = try container.decodeIfPresent(String.self, forKey: .session)
        self.for = try container.decodeIfPresent(String.self, forKey: .for)
        if let text = try container.decodeIfPresent(String.self, forKey: .endsAt) {
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw DecodingError.dataCorruptedError(forKey: .endsAt, in: container, debugDescription: "endsAt must be ISO-8601")
            }
            endsAt = date
        }
        comment = try container.decodeIfPresent(String.self, forKey: .comment)
        createdBy = try container.decodeIfPresent(String.self, forKey: .createdBy)
    }
}
