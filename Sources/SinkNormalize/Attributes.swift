import SinkCore

/// A record's attributes, looked up by any of several names: agents rename attributes across
/// versions (`tool` → `tool_name`), so every lookup lists the names it tolerates, newest first.
struct Attributes {
    var values: [String: AttributeValue]

    subscript(_ key: String) -> AttributeValue? { values[key] }

    func string(_ keys: String...) -> String? {
        for key in keys {
            if let value = values[key] {
                let text = value.text
                if !text.isEmpty { return text }
            }
        }
        return nil
    }

    func number(_ keys: String...) -> Double? {
        for key in keys {
            if let number = values[key]?.number { return number }
        }
        return nil
    }

    func integer(_ keys: String...) -> Int? {
        for key in keys {
            if let number = values[key]?.number, let int = Int(exactly: number.rounded()) { return int }
        }
        return nil
    }

    func bool(_ keys: String...) -> Bool? {
        for key in keys {
            if let bool = values[key]?.bool { return bool }
        }
        return nil
    }

    func has(prefix: String) -> Bool {
        values.keys.contains { $0.hasPrefix(prefix) }
    }
}
