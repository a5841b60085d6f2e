#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SinkCore
import SwiftProtobuf

/// A hand-written decoder of the protobuf wire format of ``OTLPLogsRequest``
/// (`ExportLogsServiceRequest`), for the ingest hot path: swift-protobuf's generic `BinaryDecoder`
/// goes through unspecialized witness calls and generic metadata lookups for every field; this
/// reads the bytes in place with one function per message type.
///
/// It produces the same generated values as `OTLPLogsRequest(serializedBytes:)` and accepts and
/// rejects the same inputs, with the same ``BinaryDecodingError``s:
/// - invalid UTF-8 in a string field, truncated varints and bodies, lengths past the enclosing
///   message or from 2 GiB − 1 on, field number 0, wire types 6 and 7, an unmatched end-group tag
///   and nesting deeper than `BinaryDecodingOptions().messageDepthLimit` (100, counting the
///   request itself and skipped groups) are errors;
/// - fields the generated code does not know, and known fields with another wire type, are skipped
///   (groups included);
/// - a singular message field that occurs twice is merged; a scalar's last occurrence wins;
///   repeated fields append; in `AnyValue.value` the last member wins, except that an
///   `arrayValue` or `kvlistValue` following one of the same kind merges into it;
/// - enums keep numbers they do not know as `.UNRECOGNIZED` (after truncation to 32 bits), other
///   integers are truncated as the generated field's type requires.
///
/// The one difference: skipped fields are not kept in `unknownFields` (swift-protobuf offers no
/// public way to fill it); the values equal swift-protobuf's decoded with
/// `BinaryDecodingOptions.discardUnknownFields`. `Tests/SinkTests/OTLPLogsWireDecoderTests.swift`
/// and the `otlp-protobuf` fuzz target check both against each other.
///
/// Arrays (log records, attributes) are reserved from a count of their fields' tags before the
/// fields are decoded. In release builds this decodes bench/gen_bodies.py's 100-record body about
/// 3.8 times as fast as swift-protobuf.
package struct OTLPLogsWireDecoder {
    /// swift-protobuf's default `BinaryDecodingOptions.messageDepthLimit`.
    package static let messageDepthLimit = BinaryDecodingOptions().messageDepthLimit

    /// Decodes a request body.
    package static func decode(_ body: Data) throws(BinaryDecodingError) -> OTLPLogsRequest {
        let result = body.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            Result { () throws(BinaryDecodingError) -> OTLPLogsRequest in try decode(bytes) }
        }
        return try result.get()
    }

    /// Decodes a request from the bytes of its body.
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> OTLPLogsRequest {
        var request = OTLPLogsRequest()
        guard let start = bytes.baseAddress, bytes.count > 0 else { return request }
        var decoder = OTLPLogsWireDecoder(reader: ProtobufWireReader(start, depthLimit: messageDepthLimit))
        try decoder.request(&request, end: start + bytes.count)
        return request
    }

    /// Decodes a request body into an ``OTLPLogBatch``: the same inputs are accepted and rejected,
    /// with the same errors, as by ``decode(_:)``, and the batch equals `OTLPLogBatch(decode(body))`.
    package static func decodeBatch(_ body: Data) throws(BinaryDecodingError) -> OTLPLogBatch {
        let result = body.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            Result { () throws(BinaryDecodingError) -> OTLPLogBatch in try decodeBatch(bytes) }
        }
        return try result.get()
    }

    /// Decodes a batch from the bytes of a request body.
    package static func decodeBatch(_ bytes: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> OTLPLogBatch {
        var batch = OTLPLogBatch()
        guard let start = bytes.baseAddress, bytes.count > 0 else { return batch }
        var decoder = OTLPLogsWireDecoder(reader: ProtobufWireReader(start, depthLimit: messageDepthLimit))
        try decoder.batchRequest(&batch, end: start + bytes.count)
        return batch
    }

    private var reader: ProtobufWireReader

    private init(reader: ProtobufWireReader) {
        self.reader = reader
    }

    // Tags are `fieldNumber << 3 | wireType` (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
    // A known field number with another wire type falls through to `skipField`, as swift-protobuf's
    // `decodeSingular…Field` leaves it unconsumed (an unknown field).

    // MARK: Messages
    //
    // Each function decodes the fields of one message into `message` (which may already hold a
    // previous occurrence's fields: merging) up to `end`, counting the message against the depth
    // limit after its length was checked, as `BinaryDecoder.decodeFullMessage` does.

    /// `ExportLogsServiceRequest`: 1 resource_logs.
    @inline(__always)
    private mutating func request(_ message: inout OTLPLogsRequest, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = OTLPResourceLogs()
                try resourceLogs(&value, end: reader.p + count)
                message.resourceLogs.append(value)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `ResourceLogs`: 1 resource, 2 scope_logs, 3 schema_url.
    private mutating func resourceLogs(_ message: inout OTLPResourceLogs, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = message.resource
                message.clearResource()  // `value` is the only reference to its attributes
                try resource(&value, end: reader.p + count)
                message.resource = value
            case 2 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = Opentelemetry_Proto_Logs_V1_ScopeLogs()
                try scopeLogs(&value, end: reader.p + count)
                message.scopeLogs.append(value)
            case 3 << 3 | 2:
                message.schemaURL = try reader.readString(end: end)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `Resource`: 1 attributes, 2 dropped_attributes_count.
    private mutating func resource(_ message: inout OTLPResource, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        message.attributes.reserveCapacity(message.attributes.count + reader.count(tag: 1 << 3 | 2, end: end))
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                message.attributes.append(try keyValueField(end: end))
            case 2 << 3 | 0:
                message.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint(end: end))
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `ScopeLogs`: 1 scope, 2 log_records, 3 schema_url.
    private mutating func scopeLogs(
        _ message: inout Opentelemetry_Proto_Logs_V1_ScopeLogs, end: UnsafeRawPointer
    ) throws(BinaryDecodingError) {
        try reader.enter()
        message.logRecords.reserveCapacity(message.logRecords.count + reader.count(tag: 2 << 3 | 2, end: end))
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = message.scope
                message.clearScope()
                try scope(&value, end: reader.p + count)
                message.scope = value
            case 2 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = OTLPLogRecord()
                try logRecord(&value, end: reader.p + count)
                message.logRecords.append(value)
            case 3 << 3 | 2:
                message.schemaURL = try reader.readString(end: end)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `InstrumentationScope`: 1 name, 2 version, 3 attributes, 4 dropped_attributes_count.
    private mutating func scope(_ message: inout OTLPScope, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        message.attributes.reserveCapacity(message.attributes.count + reader.count(tag: 3 << 3 | 2, end: end))
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                message.name = try reader.readString(end: end)
            case 2 << 3 | 2:
                message.version = try reader.readString(end: end)
            case 3 << 3 | 2:
                message.attributes.append(try keyValueField(end: end))
            case 4 << 3 | 0:
                message.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint(end: end))
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `LogRecord`: 1 time_unix_nano, 2 severity_number, 3 severity_text, 5 body, 6 attributes,
    /// 7 dropped_attributes_count, 8 flags, 9 trace_id, 10 span_id, 11 observed_time_unix_nano,
    /// 12 event_name.
    private mutating func logRecord(_ message: inout OTLPLogRecord, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        message.attributes.reserveCapacity(message.attributes.count + reader.count(tag: 6 << 3 | 2, end: end))
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 6 << 3 | 2:
                message.attributes.append(try keyValueField(end: end))
            case 1 << 3 | 1:
                message.timeUnixNano = try reader.readFixed64(end: end)
            case 11 << 3 | 1:
                message.observedTimeUnixNano = try reader.readFixed64(end: end)
            case 2 << 3 | 0:
                // decodeSingularEnumField: the varint truncated to Int32; the generated
                // init(rawValue:) maps unknown numbers to .UNRECOGNIZED.
                let number = Int(Int32(truncatingIfNeeded: try reader.readVarint(end: end)))
                message.severityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: number) ?? .UNRECOGNIZED(number)
            case 3 << 3 | 2:
                message.severityText = try reader.readString(end: end)
            case 5 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = message.body
                message.clearBody()
                try anyValue(&value, end: reader.p + count)
                message.body = value
            case 7 << 3 | 0:
                message.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint(end: end))
            case 8 << 3 | 5:
                message.flags = try reader.readFixed32(end: end)
            case 9 << 3 | 2:
                message.traceID = try reader.readBytes(end: end)
            case 10 << 3 | 2:
                message.spanID = try reader.readBytes(end: end)
            case 12 << 3 | 2:
                message.eventName = try reader.readString(end: end)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// A repeated `KeyValue` field's next element (after its tag).
    @inline(__always)
    private mutating func keyValueField(end: UnsafeRawPointer) throws(BinaryDecodingError) -> OTLPKeyValue {
        let count = try reader.readLength(end: end)
        var value = OTLPKeyValue()
        try keyValue(&value, end: reader.p + count)
        return value
    }

    /// `KeyValue`: 1 key, 2 value.
    private mutating func keyValue(_ message: inout OTLPKeyValue, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                message.key = try reader.readString(end: end)
            case 2 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = OTLPAnyValue()
                if message.hasValue {
                    value = message.value
                    message.clearValue()
                }
                try anyValue(&value, end: reader.p + count)
                message.value = value
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `AnyValue`, oneof value: 1 string_value, 2 bool_value, 3 int_value, 4 double_value,
    /// 5 array_value, 6 kvlist_value, 7 bytes_value.
    private mutating func anyValue(_ message: inout OTLPAnyValue, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                message.value = .stringValue(try reader.readString(end: end))
            case 2 << 3 | 0:
                message.value = .boolValue(try reader.readVarint(end: end) != 0)
            case 3 << 3 | 0:
                message.value = .intValue(Int64(bitPattern: try reader.readVarint(end: end)))
            case 4 << 3 | 1:
                message.value = .doubleValue(Double(bitPattern: try reader.readFixed64(end: end)))
            case 5 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = Opentelemetry_Proto_Common_V1_ArrayValue()
                if case .arrayValue(let previous) = message.value {
                    value = previous
                    message.value = nil
                }
                try arrayValue(&value, end: reader.p + count)
                message.value = .arrayValue(value)
            case 6 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = Opentelemetry_Proto_Common_V1_KeyValueList()
                if case .kvlistValue(let previous) = message.value {
                    value = previous
                    message.value = nil
                }
                try keyValueList(&value, end: reader.p + count)
                message.value = .kvlistValue(value)
            case 7 << 3 | 2:
                message.value = .bytesValue(try reader.readBytes(end: end))
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `ArrayValue`: 1 values.
    private mutating func arrayValue(
        _ message: inout Opentelemetry_Proto_Common_V1_ArrayValue, end: UnsafeRawPointer
    ) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = OTLPAnyValue()
                try anyValue(&value, end: reader.p + count)
                message.values.append(value)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `KeyValueList`: 1 values.
    private mutating func keyValueList(
        _ message: inout Opentelemetry_Proto_Common_V1_KeyValueList, end: UnsafeRawPointer
    ) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                message.values.append(try keyValueField(end: end))
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    // MARK: Batch
    //
    // The same messages, fields, checks and depth accounting as the functions above, into an
    // OTLPLogBatch: fields the batch does not keep are still read (strings validated as UTF-8),
    // then dropped. Attribute values and bodies are decoded by `anyValue` (oneof rules, merging)
    // and flattened once complete.

    /// `ExportLogsServiceRequest`: 1 resource_logs.
    @inline(__always)
    private mutating func batchRequest(_ batch: inout OTLPLogBatch, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = OTLPLogBatch.Resource()
                try batchResourceLogs(&value, end: reader.p + count)
                batch.resources.append(value)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `ResourceLogs`: 1 resource, 2 scope_logs, 3 schema_url (dropped).
    private mutating func batchResourceLogs(_ message: inout OTLPLogBatch.Resource, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                // A second occurrence merges: its attributes are appended.
                let count = try reader.readLength(end: end)
                try batchResource(&message.attributes, end: reader.p + count)
            case 2 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = OTLPLogBatch.Scope()
                try batchScopeLogs(&value, end: reader.p + count)
                message.scopes.append(value)
            case 3 << 3 | 2:
                _ = try reader.readString(end: end)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `Resource`: 1 attributes, 2 dropped_attributes_count (dropped).
    private mutating func batchResource(_ attributes: inout [OTLPLogBatch.Attribute], end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        attributes.reserveCapacity(attributes.count + reader.count(tag: 1 << 3 | 2, end: end))
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                attributes.append(try attributeField(end: end))
            case 2 << 3 | 0:
                _ = try reader.readVarint(end: end)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `ScopeLogs`: 1 scope, 2 log_records, 3 schema_url (dropped).
    private mutating func batchScopeLogs(_ message: inout OTLPLogBatch.Scope, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        message.records.reserveCapacity(message.records.count + reader.count(tag: 2 << 3 | 2, end: end))
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                let count = try reader.readLength(end: end)
                try batchScope(&message.name, end: reader.p + count)
            case 2 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = OTLPLogBatch.Record()
                try batchLogRecord(&value, end: reader.p + count)
                message.records.append(value)
            case 3 << 3 | 2:
                _ = try reader.readString(end: end)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `InstrumentationScope`: 1 name; 2 version, 3 attributes, 4 dropped_attributes_count (dropped).
    private mutating func batchScope(_ name: inout String, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                name = try reader.readString(end: end)
            case 2 << 3 | 2:
                _ = try reader.readString(end: end)
            case 3 << 3 | 2:
                _ = try attributeField(end: end)
            case 4 << 3 | 0:
                _ = try reader.readVarint(end: end)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
    }

    /// `LogRecord`: 1 time_unix_nano, 3 severity_text, 5 body, 6 attributes, 9 trace_id,
    /// 10 span_id, 11 observed_time_unix_nano, 12 event_name; 2 severity_number,
    /// 7 dropped_attributes_count and 8 flags are read and dropped.
    private mutating func batchLogRecord(_ message: inout OTLPLogBatch.Record, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try reader.enter()
        message.attributes.reserveCapacity(message.attributes.count + reader.count(tag: 6 << 3 | 2, end: end))
        var body: OTLPAnyValue?
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 6 << 3 | 2:
                message.attributes.append(try attributeField(end: end))
            case 1 << 3 | 1:
                message.timeUnixNano = try reader.readFixed64(end: end)
            case 11 << 3 | 1:
                message.observedTimeUnixNano = try reader.readFixed64(end: end)
            case 2 << 3 | 0:
                _ = try reader.readVarint(end: end)
            case 3 << 3 | 2:
                message.severityText = try reader.readString(end: end)
            case 5 << 3 | 2:
                let count = try reader.readLength(end: end)
                var value = body ?? OTLPAnyValue()
                body = nil
                try anyValue(&value, end: reader.p + count)
                body = value
            case 7 << 3 | 0:
                _ = try reader.readVarint(end: end)
            case 8 << 3 | 5:
                _ = try reader.readFixed32(end: end)
            case 9 << 3 | 2:
                message.traceID = try reader.readBytes(end: end)
            case 10 << 3 | 2:
                message.spanID = try reader.readBytes(end: end)
            case 12 << 3 | 2:
                message.eventName = try reader.readString(end: end)
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
        if let body { message.body = body.text }
    }

    /// A repeated `KeyValue` field's next element (after its tag), flattened: 1 key, 2 value.
    private mutating func attributeField(end: UnsafeRawPointer) throws(BinaryDecodingError) -> OTLPLogBatch.Attribute {
        let count = try reader.readLength(end: end)
        let end = reader.p + count
        try reader.enter()
        var key = ""
        var value: OTLPAnyValue?
        // The common value, an `AnyValue` of one string field and nothing else, read without
        // building the `AnyValue` (same checks, errors and depth accounting as `anyValue`).
        var text: String?
        while reader.p < end {
            let tag = try reader.readTag(end: end)
            switch tag {
            case 1 << 3 | 2:
                key = try reader.readString(end: end)
            case 2 << 3 | 2:
                let count = try reader.readLength(end: end)
                let valueEnd = reader.p + count
                if value == nil, text == nil, Self.isSingleStringField(reader.p, end: valueEnd) {
                    try reader.enter()
                    reader.p += 1
                    text = try reader.readString(end: valueEnd)
                    reader.leave()
                    continue
                }
                // A value field again merges into the first (a string read above included).
                var merged = value ?? OTLPAnyValue()
                if let previous = text {
                    merged.value = .stringValue(previous)
                    text = nil
                }
                value = nil
                try anyValue(&merged, end: valueEnd)
                value = merged
            default: try reader.skipField(tag: tag, end: end)
            }
        }
        reader.leave()
        if let text { return OTLPLogBatch.Attribute(key: key, value: .string(text)) }
        return OTLPLogBatch.Attribute(key: key, value: value?.attributeValue)
    }

    /// Whether the bytes from `start` to `end` are exactly one `string_value` field (tag 1,
    /// wire type 2) whose length, a varint of at most 5 bytes, reaches `end`.
    @inline(__always)
    private static func isSingleStringField(_ start: UnsafeRawPointer, end: UnsafeRawPointer) -> Bool {
        guard end - start >= 2, start.load(as: UInt8.self) == 1 << 3 | 2 else { return false }
        var q = start + 1
        var length = 0
        var shift = 0
        while q < end, shift < 35 {
            let byte = q.load(as: UInt8.self)
            q += 1
            length |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return end - q == length }
            shift += 7
        }
        return false
    }
}
