import ObservatoryControl
/// A JSON settings file as setup edits it: the value, and how the text was laid out (indent,
/// final newline) so that writing it back changes only what setup changed.
package struct JSONSettingsDocument: Sendable {
    package var value: JSONValue
    package var indent: String
    package var finalNewline: Bool

    /// Parses `text` ("" = a file that does not exist yet: an empty object). Refuses comments.
    package init(text: String, path: String) throws(SetupError) {
        if text.allSatisfy(\.isWhitespace) {
            value = .object([])
            indent = "  "
            finalNewline = true
            return
        }
        let parsed: (value: JSONValue, hadComments: Bool)
        do {
            parsed = try JSONValue.parse(text)
        } catch {
            throw .invalidJSON(path: path, message: error.description)
        }
        if parsed.hadComments { throw .hasComments(path: path) }
        guard case .object = parsed.value else {
            throw .unexpectedShape(path: path, key: "(top level)", expected: "an object")
        }
        value = parsed.value
        indent = Self.detectIndent(text) ?? "  "
        finalNewline = text.hasSuffix("\n")
    }

    /// The text to write.
    package var text: String {
        value.prettyText(indent: indent) + (finalNewline ? "\n" : "")
    }

    /// The leading whitespace of the first indented line.
    static func detectIndent(_ text: String) -> String? {
        for line in text.split(separator: "\n").dropFirst() {
            let lead = line.prefix(while: { $0 == " " || $0 == "\t" })
            if !lead.isEmpty { return String(lead) }
        }
        return nil
    }

    // MARK: Editing helpers shared by the agents

    /// Sets `values` in the object `container` (created if missing), remembering in `record` what
    /// was there before. Notes say which existing values were replaced.
    package mutating func assign(
        _ values: [(String, JSONValue)], in container: String, path: String, record: inout SetupRecord, notes: inout [String]
    ) throws(SetupError) {
        var object = value[container] ?? .object([])
        if value[container] == nil, !record.createdKeys.contains(container) { record.createdKeys.append(container) }
        guard case .object = object else { throw .unexpectedShape(path: path, key: container, expected: "an object") }
        for (key, newValue) in values {
            let dotted = container + "." + key
            if let old = object[key] {
                if old == newValue { continue }
                if record.previous[dotted] == nil && record.assigned[dotted] != old {
                    record.previous[dotted] = old
                    notes.append("replacing \(dotted) (was \(old.compactText))")
                }
            }
            object.set(key, newValue)
            record.assigned[dotted] = newValue
        }
        value.set(container, object)
    }

    /// Undoes ``assign(_:in:path:record:notes:)``: a key still holding the value setup wrote gets
    /// its previous value back, or goes. `fallback` are the values setup writes today (used when
    /// no record survived). A key the user changed since is left alone (noted).
    package mutating func unassign(
        _ keys: [String], fallback: [String: JSONValue], in container: String, record: SetupRecord, notes: inout [String]
    ) {
        guard var object = value[container], case .object = object else { return }
        for key in keys {
            let dotted = container + "." + key
            guard let current = object[key] else { continue }
            let ours = record.assigned[dotted] ?? fallback[key]
            guard current == ours else {
                if ours != nil { notes.append("leaving \(dotted) = \(current.compactText): changed since setup") }
                continue
            }
            if let previous = record.previous[dotted] {
                object.set(key, previous)
            } else {
                object.remove(key)
            }
        }
        if object.objectMembers?.isEmpty == true, record.createdKeys.contains(container) || record.assigned.isEmpty {
            value.remove(container)
        } else {
            value.set(container, object)
        }
    }
}
