import Foundation

/// An expression after names are resolved and types checked: what the evaluator walks. Every node
/// is visited at most once per evaluation (no loops, no macros), so evaluation is linear in its size.
indirect enum CompiledExpr: Sendable {
    enum Arithmetic: Sendable { case add, subtract, multiply, divide, remainder }
    enum Comparison: Sendable { case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual }
    enum StringTest: Sendable { case startsWith, endsWith, contains }

    case literal(ExprValue)
    case session(SessionField)
    case event(EventField)
    case attribute(String)
    case value
    case list([CompiledExpr])
    case not(CompiledExpr)
    case negate(CompiledExpr)
    case arithmetic(Arithmetic, CompiledExpr, CompiledExpr)
    case compare(Comparison, CompiledExpr, CompiledExpr)
    case and(CompiledExpr, CompiledExpr)
    case or(CompiledExpr, CompiledExpr)
    case contained(CompiledExpr, in: CompiledExpr)
    case has(CompiledExpr)
    case size(CompiledExpr)
    case stringTest(StringTest, CompiledExpr, CompiledExpr)
    case matches(CompiledExpr, CompiledRegex)
    case lowerASCII(CompiledExpr)
    case toInt(CompiledExpr)
    case toDouble(CompiledExpr)
    case toString(CompiledExpr)
    case coalesce([CompiledExpr])
}

/// A regular expression compiled once at load time.
final class CompiledRegex: Sendable {
    let pattern: String
    // NSRegularExpression is immutable after creation and documented as safe to use from any thread.
    nonisolated(unsafe) let regex: NSRegularExpression

    init(pattern: String) throws {
        self.pattern = pattern
        regex = try NSRegularExpression(pattern: pattern)
    }

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
