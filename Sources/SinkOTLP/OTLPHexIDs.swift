import Foundation

/// Restores OTLP/JSON trace and span ids.
///
/// OTLP/JSON encodes `traceId`/`spanId` as hex strings (OTLP specification, "JSON Protobuf
/// Encoding": "trace_id and span_id … MUST be represented as case-insensitive hex-encoded strings"),
/// while the canonical protobuf JSON mapping that swift-protobuf implements expects base64 for
/// `bytes`. Every hex digit is also a base64 character, and a 32- or 16-digit id is a whole number of
/// base64 quanta, so the decoder accepts the id and yields the base64 reading of it, from which the
/// hex text is recovered exactly by encoding it back. A value that is not hex (a sender that used
/// base64 after all) is left as decoded.
package enum OTLPHexIDs {
    package static func restore(in request: inout OTLPLogsRequest) {
        for r in request.resourceLogs.indices {
            for s in request.resourceLogs[r].scopeLogs.indices {
                for l in request.resourceLogs[r].scopeLogs[s].logRecords.indices {
                    restore(&request.resourceLogs[r].scopeLogs[s].logRecords[l].traceID)
                    restore(&request.resourceLogs[r].scopeLogs[s].logRecords[l].spanID)
                }
            }
        }
    }

    package static func restore(in request: inout OTLPTraceRequest) {
        for r in request.resourceSpans.indices {
            for s in request.resourceSpans[r].scopeSpans.indices {
                for p in request.resourceSpans[r].scopeSpans[s].spans.indices {
                    restore(&request.resourceSpans[r].scopeSpans[s].spans[p].traceID)
                    restore(&request.resourceSpans[r].scopeSpans[s].spans[p].spanID)
                    restore(&request.resourceSpans[r].scopeSpans[s].spans[p].parentSpanID)
                }
            }
        }
    }

    /// Turns the base64 reading of a hex id back into the id's bytes.
    package static func restore(_ id: inout Data) {
        guard !id.isEmpty else { return }
        let text = id.base64EncodedString()
        if let bytes = hexBytes(text) { id = bytes }
    }

    /// The bytes a hex string spells, or `nil` if it is not an even number of hex digits.
    package static func hexBytes(_ text: String) -> Data? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes = Data(capacity: utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
