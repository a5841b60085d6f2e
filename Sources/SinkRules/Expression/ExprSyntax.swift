/// The syntax tree of an expression as written, before names are resolved.
indirect enum ExprSyntax: Sendable {
    case literal(ExprValue)
    case identifier(String)
    case member(ExprNode, String)
    case index(ExprNode, ExprNode)
    case call(String, [ExprNode])
    case method(ExprNode, String, [ExprNode])
    case list([ExprNode])
    case unary(String, ExprNode)
    case binary(String, ExprNode, ExprNode)
    case parenthesized(ExprNode)
}

/// A syntax node with the span of text it came from.
struct ExprNode: Sendable {
    var syntax: ExprSyntax
    var offset: Int
    var length: Int

    var end: Int { offset + length }
}
