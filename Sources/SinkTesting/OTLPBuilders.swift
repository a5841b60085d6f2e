import Foundation
import SinkCore
import SinkOTLP

/// Builds OTLP requests shaped like what the agents send, with defaults for everything a test
/// does not care about.
package enum OTLPBuilders {
    package static func keyValue(_ key: String, _ value: Any) -> OTLPKeyValue {
        var pair = OTLPKeyValue()
        pair.key = key
        switch value {
        case let string as String: pair.value.stringValue = string
        case let bool as Bool: pair.value.boolValue = bool
        case let int as Int: pair.value.intValue = Int64(int)
        case let double as Double: pair.value.doubleValue = double
        default: pair.value.stringValue = "\(value)"
        }
        return pair
    }

    package static func attributes(_ values: [(String, Any)]) -> [OTLPKeyValue] {
        values.map { keyValue($0.0, $0.1) }
    }

    package static func resource(_ values: [(String, Any)]) -> OTLPResource {
        var resource = OTLPResource()
        resource.attributes = attributes(values)
        return resource
    }

    /// A Claude Code log event: body is the full name, `event.name` the short one.
    package static func claudeEvent(
        _ shortName: String, session: String, sequence: Int, timeNanos: UInt64 = 1_790_000_000_000_000_000,
        _ extra: [(String, Any)] = []
    ) -> OTLPLogRecord {
        var record = OTLPLogRecord()
        record.timeUnixNano = timeNanos + UInt64(sequence) * 1_000_000
        record.observedTimeUnixNano = record.timeUnixNano
        record.body.stringValue = "claude_code.\(shortName)"
        record.attributes = attributes(
            [
                ("event.name", shortName), ("event.timestamp", "2026-09-21T12:00:00.000Z"),
                ("event.sequence", sequence), ("session.id", session), ("user.id", "user-1"),
                ("terminal.type", "tmux"),
            ] + extra)
        return record
    }

    /// A logs request from one resource and scope.
    package static func logsRequest(
        resource: [(String, Any)] = [("service.name", "claude-code"), ("service.version", "2.1.200")],
        scope: String = "com.anthropic.claude_code.events", records: [OTLPLogRecord]
    ) -> OTLPLogsRequest {
        var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        scopeLogs.scope.name = scope
        scopeLogs.logRecords = records
        var resourceLogs = OTLPResourceLogs()
        resourceLogs.resource = self.resource(resource)
        resourceLogs.scopeLogs = [scopeLogs]
        var request = OTLPLogsRequest()
        request.resourceLogs = [resourceLogs]
        return request
    }

    /// A monotonic sum with one data point per `(attributes, value)`.
    package static func sumMetric(
        _ name: String, temporality: OTLPTemporality = .delta, startNanos: UInt64 = 1_790_000_000_000_000_000,
        timeNanos: UInt64 = 1_790_000_060_000_000_000, points: [([(String, Any)], Double)]
    ) -> OTLPMetric {
        var metric = OTLPMetric()
        metric.name = name
        var sum = Opentelemetry_Proto_Metrics_V1_Sum()
        sum.aggregationTemporality = temporality
        sum.isMonotonic = true
        sum.dataPoints = points.map { pointAttributes, value in
            var point = OTLPNumberDataPoint()
            point.attributes = attributes(pointAttributes)
            point.startTimeUnixNano = startNanos
            point.timeUnixNano = timeNanos
            point.asDouble = value
            return point
        }
        metric.sum = sum
        return metric
    }

    package static func metricsRequest(
        resource: [(String, Any)] = [("service.name", "claude-code")], scope: String = "com.anthropic.claude_code",
        metrics: [OTLPMetric]
    ) -> OTLPMetricsRequest {
        var scopeMetrics = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
        scopeMetrics.scope.name = scope
        scopeMetrics.metrics = metrics
        var resourceMetrics = OTLPResourceMetrics()
        resourceMetrics.resource = self.resource(resource)
        resourceMetrics.scopeMetrics = [scopeMetrics]
        var request = OTLPMetricsRequest()
        request.resourceMetrics = [resourceMetrics]
        return request
    }

    package static func span(
        _ name: String, traceByte: UInt8 = 1, spanByte: UInt8 = 1, failed: Bool = false, _ extra: [(String, Any)] = []
    ) -> OTLPSpan {
        var span = OTLPSpan()
        span.traceID = Data(repeating: traceByte, count: 16)
        span.spanID = Data(repeating: spanByte, count: 8)
        span.name = name
        span.startTimeUnixNano = 1_790_000_000_000_000_000
        span.endTimeUnixNano = 1_790_000_001_500_000_000
        span.attributes = attributes(extra)
        if failed { span.status.code = .error }
        return span
    }

    package static func traceRequest(resource: [(String, Any)], spans: [OTLPSpan]) -> OTLPTraceRequest {
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.spans = spans
        var resourceSpans = OTLPResourceSpans()
        resourceSpans.resource = self.resource(resource)
        resourceSpans.scopeSpans = [scopeSpans]
        var request = OTLPTraceRequest()
        request.resourceSpans = [resourceSpans]
        return request
    }
}
