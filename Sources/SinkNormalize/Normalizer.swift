import Foundation
import SinkCore
import SinkOTLP

/// Turns OTLP requests into ``SessionEvent``s: finds each record's agent and session, maps it
/// through that agent's adapter, and keeps whatever it does not recognise as `.other`.
///
/// Pure and thread-safe: requests are normalized concurrently on the request tasks.
package struct Normalizer: Sendable {
    package struct Configuration: Sendable, Hashable {
        /// Attribute text longer than this (UTF-8 bytes) is cut before it is stored.
        package var maxAttributeLength: Int = 4096

        package init() {}
    }

    private let configuration: Configuration

    package init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Normalizes one request; `receivedAt` stands in for records without a timestamp.
    package func normalize(_ request: OTLPRequest, receivedAt: Date) -> NormalizedBatch {
        var batch = NormalizedBatch()
        switch request {
        case .logs(let logs):
            // By index: each record is read where it is, not copied out (a retain per field).
            for resourceLogs in logs.resources {
                let resource = ResourceContext(resourceLogs.attributes, maxLength: configuration.maxAttributeLength)
                for scopeLogs in resourceLogs.scopes {
                    let records = scopeLogs.records
                    for index in records.indices {
                        normalize(records[index], scope: scopeLogs.name, resource: resource, receivedAt: receivedAt, into: &batch)
                    }
                }
            }
        case .metrics(let metrics):
            for resourceMetrics in metrics.resourceMetrics {
                let resource = ResourceContext(resourceMetrics.resource, maxLength: configuration.maxAttributeLength)
                for scopeMetrics in resourceMetrics.scopeMetrics {
                    for metric in scopeMetrics.metrics {
                        normalize(metric, scope: scopeMetrics.scope.name, resource: resource, receivedAt: receivedAt, into: &batch)
                    }
                }
            }
        case .traces(let traces):
            for resourceSpans in traces.resourceSpans {
                let resource = ResourceContext(resourceSpans.resource, maxLength: configuration.maxAttributeLength)
                for scopeSpans in resourceSpans.scopeSpans {
                    for span in scopeSpans.spans {
                        normalize(span, scope: scopeSpans.scope.name, resource: resource, receivedAt: receivedAt, into: &batch)
                    }
                }
            }
        }
        // Encode what the store writes here, on the request's task, rather than in the store's
        // single writer: requests are normalized in parallel, commits are serial.
        for index in batch.events.indices { batch.events[index].encodePayload() }
        return batch
    }

    // MARK: Logs

    private func normalize(
        _ record: OTLPLogBatch.Record, scope: String, resource: ResourceContext, receivedAt: Date, into batch: inout NormalizedBatch
    ) {
        if !record.traceID.isEmpty, record.traceID.count != 16 {
            return batch.reject("log record trace_id must be 16 bytes, got \(record.traceID.count)")
        }
        if !record.spanID.isEmpty, record.spanID.count != 8 {
            return batch.reject("log record span_id must be 8 bytes, got \(record.spanID.count)")
        }
        var attributes = flatten(record.attributes)
        let bodyText = record.body
        let name = Self.eventName(eventNameField: record.eventName, body: bodyText, attributes: attributes)
        let agent = Self.agent(eventName: name, scope: scope, resource: resource, attributes: attributes)
        var mapping: EventMapping
        var source = EventSource.logs
        switch name {
        case ObservatoryEventAdapter.hookEventName:
            mapping = ObservatoryEventAdapter.mapHook(attributes: attributes)
            source = .hooks
        case ObservatoryEventAdapter.processEventName:
            mapping = ObservatoryEventAdapter.mapProcess(attributes: attributes)
            source = .process
        default:
            mapping = Self.adapter(for: agent).mapLog(name: name, attributes: attributes)
        }
        let sessionID = resource.sessionID(attributes, agent: agent)
        complete(&mapping.facts, attributes: attributes, resource: resource)
        let timeNanos = record.timeUnixNano != 0 ? record.timeUnixNano : record.observedTimeUnixNano

        var hasher = FNV1a()
        hasher.combine(sessionID)
        hasher.combine("log")
        hasher.combine(record.timeUnixNano)
        hasher.combine(record.observedTimeUnixNano)
        hasher.combine(name)
        hasher.combine(bodyText ?? "")
        hasher.combine(record.traceID)
        hasher.combine(record.spanID)
        for pair in record.attributes {
            hasher.combine(pair.key)
            hasher.combine(pair.value?.text ?? "")
        }

        // Added before the attributes are sorted, not inserted into the sorted list; of an
        // attribute with the same name, these win.
        if let bodyText, bodyText != name { attributes.set("body", .string(bodyText.truncated(toUTF8Length: configuration.maxAttributeLength))) }
        if !record.severityText.isEmpty { attributes.set("severity", .string(record.severityText)) }
        let stored = attributes.takeStored()
        batch.events.append(
            SessionEvent(
                sessionID: sessionID, agent: agent, kind: mapping.kind, name: name, source: source,
                time: Self.date(nanos: timeNanos, fallback: receivedAt), dedupKey: hasher.value, dedupTime: timeNanos, facts: mapping.facts,
                attributes: stored))
    }

    /// The record's event name: the OTLP `event_name` field, else a body that reads like an event name
    /// (`claude_code.user_prompt`), else the `event.name` attribute, else `log`.
    static func eventName(eventNameField: String, body: String?, attributes: Attributes) -> String {
        let attributeName = attributes.string("event.name")
        let dot = UInt8(ascii: "."), space = UInt8(ascii: " ")
        if !eventNameField.isEmpty, eventNameField.utf8.containsByte(dot) || attributeName == nil { return eventNameField }
        if let body, body.utf8.count <= 128, body.utf8.containsByte(dot), !body.utf8.containsByte(space) { return body }
        if let attributeName { return attributeName }
        if !eventNameField.isEmpty { return eventNameField }
        return "log"
    }

    // MARK: Metrics

    private func normalize(
        _ metric: OTLPMetric, scope: String, resource: ResourceContext, receivedAt: Date, into batch: inout NormalizedBatch
    ) {
        let agent = Self.agent(eventName: metric.name, scope: scope, resource: resource, attributes: Attributes())
        let adapter = Self.adapter(for: agent)
        switch metric.data {
        case .sum(let sum):
            let temporality: MetricSample.Temporality = sum.aggregationTemporality == .cumulative ? .cumulative : .delta
            for point in sum.dataPoints {
                guard let value = point.numberValue else {
                    batch.reject("data point of \(metric.name) has no value")
                    continue
                }
                append(point: point.attributes, start: point.startTimeUnixNano, time: point.timeUnixNano, value: value,
                       temporality: sum.isMonotonic ? temporality : .gauge, metric: metric, agent: agent, adapter: adapter,
                       resource: resource, receivedAt: receivedAt, into: &batch)
            }
        case .gauge(let gauge):
            for point in gauge.dataPoints {
                guard let value = point.numberValue else {
                    batch.reject("data point of \(metric.name) has no value")
                    continue
                }
                append(point: point.attributes, start: point.startTimeUnixNano, time: point.timeUnixNano, value: value,
                       temporality: .gauge, metric: metric, agent: agent, adapter: adapter, resource: resource,
                       receivedAt: receivedAt, into: &batch)
            }
        case .histogram(let histogram):
            let temporality: MetricSample.Temporality = histogram.aggregationTemporality == .cumulative ? .cumulative : .delta
            for point in histogram.dataPoints {
                // A histogram's sum is what a token-usage histogram adds up (GenAI `gen_ai.client.token.usage`).
                append(point: point.attributes, start: point.startTimeUnixNano, time: point.timeUnixNano,
                       value: point.hasSum ? point.sum : 0, temporality: temporality, metric: metric, agent: agent,
                       adapter: adapter, resource: resource, receivedAt: receivedAt, into: &batch)
            }
        case nil:
            break
        }
    }

    private func append(
        point pointAttributes: [OTLPKeyValue], start: UInt64, time: UInt64, value: Double,
        temporality: MetricSample.Temporality, metric: OTLPMetric, agent: AgentKind, adapter: any AgentAdapter.Type,
        resource: ResourceContext, receivedAt: Date, into batch: inout NormalizedBatch
    ) {
        var attributes = flatten(pointAttributes)
        let sessionID = resource.sessionID(attributes, agent: agent)
        var series = FNV1a()
        series.combine(sessionID)
        series.combine(metric.name)
        for pair in pointAttributes {
            series.combine(pair.key)
            series.combine(pair.value.text ?? "")
        }
        series.combine(start)
        var dedup = series
        dedup.combine(time)
        dedup.combine(value.bitPattern)

        let meaning = adapter.meaning(ofMetric: metric.name, attributes: attributes)
        var facts = EventFacts(
            metric: MetricSample(meaning: meaning, temporality: temporality, value: value, seriesKey: series.value))
        facts.model = attributes.string("model", "gen_ai.request.model")
        complete(&facts, attributes: attributes, resource: resource)
        attributes.set("value", .double(value))
        if !metric.unit.isEmpty { attributes.set("unit", .string(metric.unit)) }
        let stored = attributes.takeStored()
        batch.events.append(
            SessionEvent(
                sessionID: sessionID, agent: agent, kind: .metric, name: metric.name, source: .metrics,
                time: Self.date(nanos: time, fallback: receivedAt), dedupKey: dedup.value, dedupTime: time, facts: facts,
                attributes: stored))
    }

    // MARK: Traces

    private func normalize(
        _ span: OTLPSpan, scope: String, resource: ResourceContext, receivedAt: Date, into batch: inout NormalizedBatch
    ) {
        guard span.traceID.count == 16 else {
            return batch.reject("span trace_id must be 16 bytes, got \(span.traceID.count)")
        }
        guard span.spanID.count == 8 else {
            return batch.reject("span span_id must be 8 bytes, got \(span.spanID.count)")
        }
        let attributes = flatten(span.attributes)
        let agent = Self.agent(eventName: span.name, scope: scope, resource: resource, attributes: attributes)
        let failed = span.status.code == .error
        var mapping = Self.adapter(for: agent).mapSpan(name: span.name, attributes: attributes, failed: failed)
        if mapping.facts.durationMs == nil, span.endTimeUnixNano > span.startTimeUnixNano {
            mapping.facts.durationMs = Double(span.endTimeUnixNano - span.startTimeUnixNano) / 1_000_000
        }
        if failed, mapping.facts.error == nil, !span.status.message.isEmpty { mapping.facts.error = span.status.message }
        complete(&mapping.facts, attributes: attributes, resource: resource)
        let sessionID = resource.sessionID(attributes, agent: agent)

        var hasher = FNV1a()
        hasher.combine(sessionID)
        hasher.combine("span")
        hasher.combine(span.traceID)
        hasher.combine(span.spanID)
        hasher.combine(span.name)
        hasher.combine(span.startTimeUnixNano)
        hasher.combine(span.endTimeUnixNano)

        var stored = attributes.stored  // the span events below still read all attributes
        stored["trace_id"] = .string(span.traceID.hexString)
        stored["span_id"] = .string(span.spanID.hexString)
        if !span.parentSpanID.isEmpty { stored["parent_span_id"] = .string(span.parentSpanID.hexString) }
        if failed { stored["status"] = .string("error") }
        batch.events.append(
            SessionEvent(
                sessionID: sessionID, agent: agent, kind: mapping.kind, name: span.name, source: .traces,
                time: Self.date(nanos: span.endTimeUnixNano != 0 ? span.endTimeUnixNano : span.startTimeUnixNano, fallback: receivedAt),
                dedupKey: hasher.value, dedupTime: span.startTimeUnixNano, facts: mapping.facts, attributes: stored))

        // Codex reports conversation facts as span events; take the ones an adapter knows.
        for (index, spanEvent) in span.events.enumerated() where Self.isVendorEventName(spanEvent.name) {
            let eventAttributes = Attributes(values: attributes.values.merging(flatten(spanEvent.attributes).values) { $1 })
            let eventAgent = Self.agent(eventName: spanEvent.name, scope: scope, resource: resource, attributes: eventAttributes)
            var eventMapping = Self.adapter(for: eventAgent).mapLog(name: spanEvent.name, attributes: eventAttributes)
            complete(&eventMapping.facts, attributes: eventAttributes, resource: resource)
            var eventHasher = hasher
            eventHasher.combine(UInt64(index))
            eventHasher.combine(spanEvent.name)
            eventHasher.combine(spanEvent.timeUnixNano)
            batch.events.append(
                SessionEvent(
                    sessionID: resource.sessionID(eventAttributes, agent: eventAgent), agent: eventAgent,
                    kind: eventMapping.kind, name: spanEvent.name, source: .traces,
                    time: Self.date(nanos: spanEvent.timeUnixNano, fallback: receivedAt), dedupKey: eventHasher.value,
                    dedupTime: spanEvent.timeUnixNano,
                    facts: eventMapping.facts, attributes: flatten(spanEvent.attributes).stored))
        }
    }

    // MARK: Helpers

    private func flatten(_ pairs: [OTLPLogBatch.Attribute]) -> Attributes {
        var attributes = Attributes()
        attributes.reserveCapacity(pairs.count)
        for pair in pairs {
            if let value = pair.value { attributes.set(pair.key, value.truncated(toUTF8Length: configuration.maxAttributeLength)) }
        }
        return attributes
    }

    private func flatten(_ pairs: [OTLPKeyValue]) -> Attributes {
        var attributes = Attributes()
        attributes.reserveCapacity(pairs.count)
        for pair in pairs {
            if let value = pair.value.flattened(maxLength: configuration.maxAttributeLength) { attributes.set(pair.key, value) }
        }
        return attributes
    }

    /// Facts every adapter shares: the session's name and working directory when the wrapper or
    /// the agent tells them.
    private func complete(_ facts: inout EventFacts, attributes: Attributes, resource: ResourceContext) {
        if facts.sessionName == nil {
            facts.sessionName = attributes.string("observatory.agent.name") ?? resource.sessionName
        }
        if facts.cwd == nil {
            facts.cwd = attributes.string("observatory.agent.cwd") ?? resource.cwd
        }
    }

    static func isVendorEventName(_ name: String) -> Bool {
        name.hasPrefix("claude_code.") || name.hasPrefix("codex.") || name.hasPrefix("gemini_cli.")
    }

    /// Decides which agent sent a record: its event name first (the most specific and least often
    /// overridden), then its instrumentation scope, then the resource's `service.name`, then GenAI
    /// attributes. `service.name` alone is not trusted: users override it (agent-telemetry.md §1.1).
    static func agent(eventName: String, scope: String, resource: ResourceContext, attributes: Attributes) -> AgentKind {
        if eventName.hasPrefix("claude_code.") || scope.hasPrefix("com.anthropic.claude_code") { return .claudeCode }
        if eventName.hasPrefix("codex.") { return .codex }
        if eventName.hasPrefix("gemini_cli.") { return .geminiCLI }
        if eventName == ObservatoryEventAdapter.hookEventName || eventName == ObservatoryEventAdapter.processEventName,
            let named = attributes.string("hook.agent", "observatory.agent.kind").flatMap(AgentKind.init(rawValue:))
        {
            return named
        }
        if let kind = resource.agentFromService { return kind }
        if attributes.has(prefix: "gen_ai.") || eventName.hasPrefix("gen_ai.") { return .genAI }
        return .generic
    }

    static func adapter(for agent: AgentKind) -> any AgentAdapter.Type {
        switch agent {
        case .claudeCode: ClaudeCodeAdapter.self
        case .codex: CodexAdapter.self
        case .geminiCLI: GeminiCLIAdapter.self
        case .genAI, .generic: GenAIAdapter.self
        }
    }

    static func date(nanos: UInt64, fallback: Date) -> Date {
        nanos == 0 ? fallback : Date(timeIntervalSince1970: Double(nanos) / 1_000_000_000)
    }
}

extension OTLPNumberDataPoint {
    /// The point's value, whichever type it was sent as.
    var numberValue: Double? {
        switch value {
        case .asDouble(let double): double
        case .asInt(let int): Double(int)
        case nil: nil
        }
    }
}

extension String.UTF8View {
    /// `contains(byte)` on the contiguous bytes (the generic one walks the view's indexes).
    func containsByte(_ byte: UInt8) -> Bool {
        withContiguousStorageIfAvailable { $0.contains(byte) } ?? contains(byte)
    }
}
