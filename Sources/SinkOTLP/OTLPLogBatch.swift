import Foundation
import SinkCore

/// The log records of one export request, in the form the sink reads them: only the fields the
/// normalizer uses, with every attribute value already a flat ``AttributeValue``.
///
/// Protobuf bodies are decoded straight into it (``OTLPLogsWireDecoder/decodeBatch(_:)``), so
/// the hot path never builds swift-protobuf's `KeyValue` and `AnyValue` messages only to read
/// and free them again. OTLP/JSON bodies are decoded by swift-protobuf and converted
/// (``init(_:)``); both give the same batch for the same request.
package struct OTLPLogBatch: Sendable, Equatable {
    package var resources: [Resource] = []

    package init() {}

    /// `ResourceLogs`: the resource's attributes and its scopes.
    package struct Resource: Sendable, Equatable {
        package var attributes: [Attribute] = []
        package var scopes: [Scope] = []

        package init(attributes: [Attribute] = [], scopes: [Scope] = []) {
            self.attributes = attributes
            self.scopes = scopes
        }
    }

    /// `ScopeLogs`: the instrumentation scope's name and its records.
    package struct Scope: Sendable, Equatable {
        package var name: String = ""
        package var records: [Record] = []

        package init(name: String = "", records: [Record] = []) {
            self.name = name
            self.records = records
        }
    }

    /// One `LogRecord`.
    package struct Record: Sendable, Equatable {
        package var timeUnixNano: UInt64 = 0
        package var observedTimeUnixNano: UInt64 = 0
        package var severityText: String = ""
        package var eventName: String = ""
        /// The body as text (``OTLPAnyValue/text``): `nil` when it has no value.
        package var body: String?
        package var traceID = Data()
        package var spanID = Data()
        package var attributes: [Attribute] = []

        package init() {}
    }

    /// One `KeyValue`, its value flattened but not cut (``OTLPAnyValue/attributeValue``).
    package struct Attribute: Sendable, Equatable {
        package var key: String
        /// `nil` when the pair has no value.
        package var value: AttributeValue?

        package init(key: String, value: AttributeValue?) {
            self.key = key
            self.value = value
        }

        package init(_ pair: OTLPKeyValue) {
            key = pair.key
            value = pair.hasValue ? pair.value.attributeValue : nil
        }
    }

    /// The batch of a request decoded by swift-protobuf (OTLP/JSON, tests).
    package init(_ request: OTLPLogsRequest) {
        resources = request.resourceLogs.map { resourceLogs in
            Resource(
                attributes: resourceLogs.resource.attributes.map(Attribute.init),
                scopes: resourceLogs.scopeLogs.map { scopeLogs in
                    Scope(name: scopeLogs.scope.name, records: scopeLogs.logRecords.map(Record.init))
                })
        }
    }

    /// Log records in the batch.
    package var recordCount: Int {
        resources.reduce(0) { $0 + $1.scopes.reduce(0) { $0 + $1.records.count } }
    }
}

extension OTLPLogBatch.Record {
    package init(_ record: OTLPLogRecord) {
        timeUnixNano = record.timeUnixNano
        observedTimeUnixNano = record.observedTimeUnixNano
        severityText = record.severityText
        eventName = record.eventName
        body = record.hasBody ? record.body.text : nil
        traceID = record.traceID
        spanID = record.spanID
        attributes = record.attributes.map(OTLPLogBatch.Attribute.init)
    }
}

extension OTLPRequest {
    /// A logs request from swift-protobuf's message (tests, tools): its ``OTLPLogBatch``.
    package static func logs(_ request: OTLPLogsRequest) -> OTLPRequest {
        .logs(OTLPLogBatch(request))
    }
}
