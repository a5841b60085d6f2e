import Foundation
import SinkCore

/// Evaluates compiled expressions with CEL's error semantics: anything that cannot be computed
/// (missing field, wrong run-time type, overflow, division by zero) is `unknown`, which `&&` and
/// `||` absorb commutatively. Never traps.
enum ExprEvaluator {
    static func evaluate(_ expr: CompiledExpr, _ context: ExprContext) -> ExprValue {
        switch expr {
        case .literal(let value):
            return value
        case .session(let field):
            return context.session?[field] ?? .unknown
        case .event(let field):
            guard let event = context.event else { return .unknown }
            switch field {
            case .kind: return .string(event.kind)
            case .name: return .string(event.name)
            case .agent: return .string(event.agent)
            case .source: return .string(event.source)
            case .time: return .double(event.time.timeIntervalSince1970)
            case .attrs: return .map(event.attrs)
            }
        case .attribute(let key):
            return context.event?.attribute(key).map(ExprValue.init) ?? .unknown
        case .value:
            return context.value.map(ExprValue.double) ?? .unknown
        case .list(let items):
            return .list(items.map { evaluate($0, context) })
        case .not(let inner):
            if case .bool(let value) = evaluate(inner, context) { return .bool(!value) }
            return .unknown
        case .negate(let inner):
            switch evaluate(inner, context) {
            case .int(let value):
                let (result, overflow) = Int64(0).subtractingReportingOverflow(value)
                return overflow ? .unknown : .int(result)
            case .double(let value): return .double(-value)
            default: return .unknown
            }
        case .arithmetic(let op, let left, let right):
            return arithmetic(op, evaluate(left, context), evaluate(right, context))
        case .compare(let op, let left, let right):
            return compare(op, evaluate(left, context), evaluate(right, context))
        case .and(let left, let right):
            let l = Truth(evaluate(left, context))
            if l == .false { return .bool(false) }
            let r = Truth(evaluate(right, context))
            if r == .false { return .bool(false) }
            return l == .true && r == .true ? .bool(true) : .unknown
        case .or(let left, let right):
            let l = Truth(evaluate(left, context))
            if l == .true { return .bool(true) }
            let r = Truth(evaluate(right, context))
            if r == .true { return .bool(true) }
            return l == .false && r == .false ? .bool(false) : .unknown
        case .contained(let needle, let haystack):
            let value = evaluate(needle, context)
            if case .unknown = value { return .unknown }
            switch evaluate(haystack, context) {
            case .list(let items):
                var sawUnknown = false
                for item in items {
                    switch compare(.equal, value, item) {
                    case .bool(true): return .bool(true)
                    case .bool(false): continue
                    default: sawUnknown = true
                    }
                }
                return sawUnknown ? .unknown : .bool(false)
            case .map(let map):
                guard case .string(let key) = value else { return .unknown }
                return .bool(map[key] != nil)
            default:
                return .unknown
            }
        case .has(let path):
            if case .unknown = evaluate(path, context) { return .bool(false) }
            return .bool(true)
        case .size(let inner):
            switch evaluate(inner, context) {
            case .string(let value): return .int(Int64(value.count))
            case .list(let items): return .int(Int64(items.count))
            case .map(let map): return .int(Int64(map.count))
            default: return .unknown
            }
        case .stringTest(let test, let receiver, let argument):
            guard case .string(let text) = evaluate(receiver, context), case .string(let part) = evaluate(argument, context) else {
                return .unknown
            }
            switch test {
            case .startsWith: return .bool(text.hasPrefix(part))
            case .endsWith: return .bool(text.hasSuffix(part))
            case .contains: return .bool(part.isEmpty || text.contains(part))
            }
        case .matches(let receiver, let regex):
            guard case .string(let text) = evaluate(receiver, context) else { return .unknown }
            return .bool(regex.matches(text))
        case .lowerASCII(let inner):
            guard case .string(let text) = evaluate(inner, context) else { return .unknown }
            return .string(String(String.UnicodeScalarView(text.unicodeScalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 })))
        case .toInt(let inner):
            switch evaluate(inner, context) {
            case .int(let value): return .int(value)
            case .double(let value):
                guard value.isFinite, value > -9.2e18, value < 9.2e18 else { return .unknown }
                return .int(Int64(value))
            case .string(let text): return Int64(text.trimmingWhitespace()).map(ExprValue.int) ?? .unknown
            case .bool(let value): return .int(value ? 1 : 0)
            default: return .unknown
            }
        case .toDouble(let inner):
            switch evaluate(inner, context) {
            case .int(let value): return .double(Double(value))
            case .double(let value): return .double(value)
            case .string(let text): return Double(text.trimmingWhitespace()).map(ExprValue.double) ?? .unknown
            default: return .unknown
            }
        case .toString(let inner):
            let value = evaluate(inner, context)
            if case .unknown = value { return .unknown }
            return .string(value.text)
        case .coalesce(let items):
            for item in items {
                let value = evaluate(item, context)
                if case .unknown = value { continue }
                return value
            }
            return .unknown
        }
    }

    private static func arithmetic(_ op: CompiledExpr.Arithmetic, _ l: ExprValue, _ r: ExprValue) -> ExprValue {
        if case .int(let a) = l, case .int(let b) = r {
            let result: (Int64, Bool)
            switch op {
            case .add: result = a.addingReportingOverflow(b)
            case .subtract: result = a.subtractingReportingOverflow(b)
            case .multiply: result = a.multipliedReportingOverflow(by: b)
            case .divide:
                guard b != 0 else { return .unknown }
                result = a.dividedReportingOverflow(by: b)
            case .remainder:
                guard b != 0 else { return .unknown }
                result = a.remainderReportingOverflow(dividingBy: b)
            }
            return result.1 ? .unknown : .int(result.0)
        }
        guard l.isNumber || isNumericString(l), r.isNumber || isNumericString(r), let a = l.number, let b = r.number else { return .unknown }
        let value: Double
        switch op {
        case .add: value = a + b
        case .subtract: value = a - b
        case .multiply: value = a * b
        case .divide: value = a / b
        case .remainder: value = a.truncatingRemainder(dividingBy: b)
        }
        return value.isFinite ? .double(value) : .unknown
    }

    private static func isNumericString(_ value: ExprValue) -> Bool {
        if case .string = value { return value.number != nil }
        return false
    }

    /// Equality and ordering. Numbers compare across int and double; an attribute that arrived as
    /// a string spelling a number or a bool compares as that (agents send `"500"`, `"false"`).
    static func compare(_ op: CompiledExpr.Comparison, _ l: ExprValue, _ r: ExprValue) -> ExprValue {
        let ordering: Int?
        switch (l, r) {
        case (.unknown, _), (_, .unknown):
            return .unknown
        case (.null, .null):
            ordering = 0
        case (.null, _), (_, .null):
            switch op {
            case .equal: return .bool(false)
            case .notEqual: return .bool(true)
            default: return .unknown
            }
        case (.int(let a), .int(let b)):
            ordering = a < b ? -1 : a > b ? 1 : 0
        case (.string(let a), .string(let b)):
            ordering = a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : a == b ? 0 : 1
        case (.bool(let a), .bool(let b)):
            guard op == .equal || op == .notEqual else { return .unknown }
            ordering = a == b ? 0 : 1
        case (.bool(let a), .string(let s)), (.string(let s), .bool(let a)):
            guard op == .equal || op == .notEqual, let b = AttributeValue.string(s).bool else { return .unknown }
            ordering = a == b ? 0 : 1
        default:
            guard let a = l.number, let b = r.number, l.isNumber || r.isNumber else { return .unknown }
            ordering = a < b ? -1 : a > b ? 1 : 0
        }
        guard let ordering else { return .unknown }
        switch op {
        case .equal: return .bool(ordering == 0)
        case .notEqual: return .bool(ordering != 0)
        case .less: return .bool(ordering < 0)
        case .lessOrEqual: return .bool(ordering <= 0)
        case .greater: return .bool(ordering > 0)
        case .greaterOrEqual: return .bool(ordering >= 0)
        }
    }
}
