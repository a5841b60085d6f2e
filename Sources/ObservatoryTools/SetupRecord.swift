import ObservatoryControl
/// What `observatory setup` remembers about a settings file it changed, so that `--remove` takes
/// out exactly what it added and puts back what it replaced. Kept as JSON in the state directory
/// (`<state>/setup/<escaped file path>.json`), not in the agent's file (agents validate their
/// settings and may reject unknown keys).
package struct SetupRecord: Sendable, Equatable {
    /// Setup created the file (remove deletes it again if nothing else is left in it).
    package var createdFile = false
    /// Dotted paths of containers setup created (`env`, `hooks`, `telemetry`).
    package var createdKeys: [String] = []
    /// Dotted path → the value setup wrote there.
    package var assigned: [String: JSONValue] = [:]
    /// Dotted path → the value that was there before setup replaced it.
    package var previous: [String: JSONValue] = [:]

    package init() {}

    package var json: JSONValue {
        .object([
            ("createdFile", .bool(createdFile)),
            ("createdKeys", .array(createdKeys.map(JSONValue.string))),
            ("assigned", .object(assigned.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
            ("previous", .object(previous.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
        ])
    }

    package init(json: JSONValue) {
        if case .bool(let b)? = json["createdFile"] { createdFile = b }
        createdKeys = json["createdKeys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for (k, v) in json["assigned"]?.objectMembers ?? [] { assigned[k] = v }
        for (k, v) in json["previous"]?.objectMembers ?? [] { previous[k] = v }
    }

    /// Where the record of `file` lives.
    package static func path(for file: String, paths: ObservatoryPaths) -> String {
        paths.setupRecordDirectory + "/" + escape(file) + ".json"
    }

    /// A file path as one file name (`/` → `%2F`).
    package static func escape(_ path: String) -> String {
        path.replacingAll("%", "%25").replacingAll("/", "%2F")
    }

    /// Reads the record of `file`; an empty record if there is none.
    package static func load(for file: String, paths: ObservatoryPaths) -> SetupRecord {
        guard let bytes = POSIXFile.read(path(for: file, paths: paths)),
            let value = try? JSONValue.parse(bytes: bytes).value
        else { return SetupRecord() }
        return SetupRecord(json: value)
    }
}

extension String {
    /// Every occurrence of `target` replaced by `replacement`.
    func replacingAll(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
