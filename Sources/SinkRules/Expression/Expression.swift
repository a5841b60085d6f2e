/// A checked rule expression, ready to evaluate.
///
/// ```swift
/// let expression = try Expression.compile("has(event.attrs.status_code) && event.attrs.status_code >= 500", scope: .withEvent)
/// expression.truth(in: context)   // .true, .false or .unknown
/// ```
package struct Expression: Sendable {
    package let text: String
    package let type: ExprType
    /// Warnings the checker found (the expression is usable).
    package let warnings: [ExprError]
    let root: CompiledExpr

    /// Parses and type-checks `text`; the error carries the offset inside `text`.
    package static func compile(_ text: String, scope: ExprScope, expecting expected: ExprType? = .bool) throws(ExprError) -> Expression {
        let node = try ExprParser.parse(text)
        var compiler = ExprCompiler(scope: scope)
        let (root, type) = try compiler.compile(node)
        if let expected, type != expected, type != .dyn {
            throw ExprError(offset: node.offset, length: node.length, code: "E301", message: "the expression is \(type.rawValue); it must be \(expected.rawValue)")
        }
        return Expression(text: text, type: type, warnings: compiler.warnings, root: root)
    }

    /// The value, `unknown` when something it needs is missing.
    package func evaluate(in context: ExprContext) -> ExprValue {
        ExprEvaluator.evaluate(root, context)
    }

    /// The boolean outcome under three-valued logic.
    package func truth(in context: ExprContext) -> Truth {
        Truth(evaluate(in: context))
    }
}
