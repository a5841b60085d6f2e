/// An event's attributes: each key once, the keys in the order of their UTF-8 bytes.
///
/// An array rather than a dictionary: an event carries a dozen attributes or fewer, written once
/// by the normalizer, read a few times, and stored as a JSON object with sorted keys. Kept sorted,
/// they need no hashing to build or to look up, and the store's JSON is written in one pass.
/// Lookups scan small lists and search large ones (an exporter may send thousands).
package struct EventAttributes: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral, JSONObjectWritable {
    package typealias Element = (key: String, value: AttributeValue)

    private var keys_: [String]
    private var values_: [AttributeValue]

    package init() {
        keys_ = []
        values_ = []
    }

    /// `pairs` in any order; of pairs with the same key, the last wins.
    package init(_ pairs: some Sequence<(key: String, value: AttributeValue)>) {
        let pairs = Array(pairs)
        // Key order, and the last of equal keys kept: a stable sort keeps equal keys in input order.
        let order = pairs.indices.map { (prefix: Self.sortPrefix(pairs[$0].key), index: $0) }.sorted { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            let key = pairs[a.index].key, other = pairs[b.index].key
            if key == other { return a.index < b.index }
            return Self.utf8Precedes(key, other)
        }
        keys_ = []
        values_ = []
        keys_.reserveCapacity(pairs.count)
        values_.reserveCapacity(pairs.count)
        for (_, index) in order {
            if let last = keys_.last, last == pairs[index].key {
                values_[values_.count - 1] = pairs[index].value
            } else {
                keys_.append(pairs[index].key)
                values_.append(pairs[index].value)
            }
        }
    }

    /// Takes `keys` and their `values` in any order; of equal keys, the last wins. Sorts small
    /// lists in place (the normalizer's path: one record's attributes).
    package init(unsortedKeys keys: consuming [String], values: consuming [AttributeValue]) {
        precondition(keys.count == values.count, "one value per key")
        let count = keys.count
        guard count <= 16 else {
            self.init(zip(keys, values).lazy.map { (key: $0.0, value: $0.1) })
            return
        }
        var kept = count
        // Sorted and deduplicated in place, in the arrays' buffers (moves, no retain or release).
        keys.withUnsafeMutableBufferPointer { keys in
            values.withUnsafeMutableBufferPointer { values in
                withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count) { prefixes in
                    // Insertion sort: stable, so equal keys stay in input order. Each key's first 8
                    // bytes, as a number, decide most comparisons without reading the key again.
                    for index in 0..<count { prefixes[index] = Self.sortPrefix(keys[index]) }
                    for next in 1..<Swift.max(count, 1) {
                        var index = next
                        while index > 0 {
                            let this = prefixes[index], previous = prefixes[index - 1]
                            guard this != previous ? this < previous : Self.utf8Precedes(keys[index], keys[index - 1]) else { break }
                            prefixes.swapAt(index, index - 1)
                            keys.swapAt(index, index - 1)
                            values.swapAt(index, index - 1)
                            index -= 1
                        }
                    }
                }
                // Of equal (now adjacent) keys, the last one's value stays, in the first one's place.
                guard count > 1 else { return }
                var last = 0
                for index in 1..<count {
                    if keys[index] == keys[last] {
                        values.swapAt(last, index)
                    } else {
                        last += 1
                        if last != index {
                            keys.swapAt(last, index)
                            values.swapAt(last, index)
                        }
                    }
                }
                kept = last + 1
            }
        }
        if kept < count {
            keys.removeLast(count - kept)
            values.removeLast(count - kept)
        }
        self.init(sortedKeys: keys, values: values)
    }

    private init(sortedKeys: [String], values: [AttributeValue]) {
        keys_ = sortedKeys
        values_ = values
    }

    package init(_ dictionary: [String: AttributeValue]) {
        self.init(dictionary.lazy.map { (key: $0.key, value: $0.value) })
    }

    package init(dictionaryLiteral elements: (String, AttributeValue)...) {
        self.init(elements.lazy.map { (key: $0.0, value: $0.1) })
    }

    // MARK: Collection

    package var startIndex: Int { 0 }
    package var endIndex: Int { keys_.count }

    package subscript(position: Int) -> Element {
        (keys_[position], values_[position])
    }

    /// The keys, in order.
    package var keys: [String] { keys_ }

    /// The value of `key`; setting `nil` removes it.
    package subscript(key: String) -> AttributeValue? {
        get {
            switch find(key) {
            case .found(let index): values_[index]
            case .insertAt: nil
            }
        }
        set {
            switch (find(key), newValue) {
            case (.found(let index), let value?): values_[index] = value
            case (.found(let index), nil):
                keys_.remove(at: index)
                values_.remove(at: index)
            case (.insertAt(let index), let value?):
                keys_.insert(key, at: index)
                values_.insert(value, at: index)
            case (.insertAt, nil): break
            }
        }
    }

    /// As a dictionary (for JSON encoders and expressions that take the whole map).
    package var dictionary: [String: AttributeValue] {
        Dictionary(uniqueKeysWithValues: zip(keys_, values_))
    }

    private enum Position {
        case found(Int)
        case insertAt(Int)
    }

    private func find(_ key: String) -> Position {
        if keys_.count <= 16 {
            // Equal strings usually share their storage (the decoder's RecentStrings), and `==`
            // then answers without reading bytes.
            for index in keys_.indices {
                if keys_[index] == key { return .found(index) }
                if Self.utf8Precedes(key, keys_[index]) { return .insertAt(index) }
            }
            return .insertAt(keys_.count)
        }
        var low = 0
        var high = keys_.count
        while low < high {
            let middle = (low + high) / 2
            if keys_[middle] == key { return .found(middle) }
            if Self.utf8Precedes(keys_[middle], key) { low = middle + 1 } else { high = middle }
        }
        return .insertAt(low)
    }

    // MARK: Equality

    package static func == (lhs: EventAttributes, rhs: EventAttributes) -> Bool {
        lhs.keys_ == rhs.keys_ && lhs.values_ == rhs.values_
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(keys_)
        hasher.combine(values_)
    }

    // MARK: JSON

    /// Appends the attributes as one JSON object, keys in their (UTF-8 byte) order: the same
    /// text for every process and platform.
    package func writeJSON(into writer: inout JSONText) {
        writer.beginObject()
        for index in keys_.indices {
            writer.key(keys_[index])
            writer.attribute(values_[index])
        }
        writer.endObject()
    }

    // MARK: Order

    /// The first 8 UTF-8 bytes of `key` as a big-endian number, zero-padded: ordering by it
    /// orders by those bytes.
    static func sortPrefix(_ key: String) -> UInt64 {
        func prefix(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
            var prefix: UInt64 = 0
            let count = Swift.min(bytes.count, 8)
            for index in 0..<count { prefix = prefix << 8 | UInt64(bytes[index]) }
            return count == 0 ? 0 : prefix << (8 * UInt64(8 - count))
        }
        if let value = key.utf8.withContiguousStorageIfAvailable(prefix) { return value }
        var key = key
        return key.withUTF8(prefix)
    }

    /// `a.utf8.lexicographicallyPrecedes(b.utf8)`, on the contiguous bytes (the generic version
    /// walks both views through their indexes).
    static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                for index in 0..<Swift.min(x.count, y.count) where x[index] != y[index] {
                    return x[index] < y[index]
                }
                return x.count < y.count
            }
        }
    }
}

extension EventAttributes: Codable {
    /// A JSON object, as the store and the API write it.
    package init(from decoder: any Decoder) throws {
        self.init(try [String: AttributeValue](from: decoder))
    }

    package func encode(to encoder: any Encoder) throws {
        try dictionary.encode(to: encoder)
    }
}
