import SinkCore

/// A record's attributes, looked up by any of several names: agents rename attributes across
/// versions (`tool` → `tool_name`), so every lookup lists the names it tolerates, newest first.
///
/// Kept in two parts, split once as the record is read: what the event stores (``stored``) and
/// the few attributes every record repeats (``Attributes/isRepeated(_:)``: `session.id`,
/// `user.id`, ...), which are looked up but not stored. The split spares each record a copy of
/// its attributes and a dozen removals from it.
struct Attributes {
    /// Keys of every attribute except the repeated ones (what the event stores), in the record's
    /// order; a key sent twice is here twice, and its last value counts.
    private var storedKeys: [String]
    /// Values of ``storedKeys``, at the same positions.
    private var storedValues: [AttributeValue]
    /// The repeated attributes present (a handful at most), in the record's order.
    private(set) var repeated: [(key: String, value: AttributeValue)]

    init() {
        storedKeys = []
        storedValues = []
        repeated = []
    }

    init(values: [String: AttributeValue]) {
        self.init()
        reserveCapacity(values.count)
        for (key, value) in values { set(key, value) }
    }

    /// Adds an attribute; a key seen before takes the new value.
    mutating func set(_ key: String, _ value: AttributeValue) {
        if Self.isRepeated(key) {
            if let index = repeated.firstIndex(where: { $0.key == key }) {
                repeated[index].value = value
            } else {
                repeated.append((key, value))
            }
        } else {
            // Appended even when the key came before: lookups read from the end, and
            // ``EventAttributes`` keeps the last value of a key.
            storedKeys.append(key)
            storedValues.append(value)
        }
    }

    /// What the event stores: every attribute except the repeated ones.
    var stored: EventAttributes {
        EventAttributes(unsortedKeys: storedKeys, values: storedValues)
    }

    /// Hands over ``stored``, leaving this empty: the arrays move instead of being copied.
    mutating func takeStored() -> EventAttributes {
        var keys: [String] = []
        var values: [AttributeValue] = []
        swap(&keys, &storedKeys)
        swap(&values, &storedValues)
        // Moved, not copied: the sort works in the arrays' own buffers.
        return EventAttributes(unsortedKeys: consume keys, values: consume values)
    }

    mutating func reserveCapacity(_ count: Int) {
        storedKeys.reserveCapacity(count)
        storedValues.reserveCapacity(count)
        // Agents repeat about eight attributes on every record: one allocation, not four growths.
        repeated.reserveCapacity(min(count, 8))
    }

    /// All attributes, stored and repeated, as one dictionary.
    var values: [String: AttributeValue] {
        var all = stored.dictionary
        for (key, value) in repeated { all[key] = value }
        return all
    }

    subscript(_ key: String) -> AttributeValue? {
        if Self.isRepeated(key) {
            return repeated.first { $0.key == key }?.value
        }
        // The last of a key sent twice; equal keys usually share storage (the decoder's
        // RecentStrings), so most comparisons end at the pointer.
        guard let index = storedKeys.lastIndex(of: key) else { return nil }
        return storedValues[index]
    }

    func string(_ keys: String...) -> String? {
        for key in keys {
            if let value = self[key] {
                let text = value.text
                if !text.isEmpty { return text }
            }
        }
        return nil
    }

    func number(_ keys: String...) -> Double? {
        for key in keys {
            if let number = self[key]?.number { return number }
        }
        return nil
    }

    func integer(_ keys: String...) -> Int? {
        for key in keys {
            if let number = self[key]?.number, let int = Int(exactly: number.rounded()) { return int }
        }
        return nil
    }

    func bool(_ keys: String...) -> Bool? {
        for key in keys {
            if let bool = self[key]?.bool { return bool }
        }
        return nil
    }

    func has(prefix: String) -> Bool {
        storedKeys.contains { $0.hasPrefix(prefix) } || repeated.contains { $0.key.hasPrefix(prefix) }
    }

    /// Attributes every Claude Code / Codex / Gemini record repeats; they say nothing about the
    /// event itself, so they are not stored with every event.
    static let repeatedKeys: Set<String> = [
        "session.id", "conversation.id", "event.name", "event.timestamp",
        "user.account_uuid", "user.account_id", "user.id", "user.email", "organization.id",
        "terminal.type", "app.version", "installation.id", "auth_mode", "originator", "slug",
    ]

    /// Whether `key` is one of ``repeatedKeys``, without hashing it: by its length, then by
    /// comparison with the few keys of that length. This runs for every attribute of every record.
    static func isRepeated(_ key: String) -> Bool {
        switch key.utf8.count {
        case 4: key == "slug"
        case 7: key == "user.id"
        case 9: key == "auth_mode"
        case 10: key == "session.id" || key == "event.name" || key == "user.email" || key == "originator"
        case 11: key == "app.version"
        case 13: key == "terminal.type"
        case 15:
            key == "conversation.id" || key == "event.timestamp" || key == "user.account_id" || key == "organization.id"
                || key == "installation.id"
        case 17: key == "user.account_uuid"
        default: false
        }
    }
}
