/// Recursive-descent parser for the rule expression language, a strict subset of CEL
/// (rules-dsl.md §3.7):
///
/// ```
/// Expr    = Or ;                       Or  = And { "||" And } ;     And = Rel { "&&" Rel } ;
/// Rel     = Add [ RelOp Add ] ;        (* non-associative: a < b < c is rejected *)
/// Add     = Mul { ("+"|"-") Mul } ;    Mul = Unary { ("*"|"/"|"%") Unary } ;
/// Unary   = Member | "!" Unary | "-" Unary ;
/// Member  = Primary { "." IDENT [ "(" [Args] ")" ] | "[" Expr "]" } ;
/// Primary = IDENT [ "(" [Args] ")" ] | "(" Expr ")" | "[" [Args] "]" | Literal ;
/// ```
///
/// Every step consumes a token, so parsing is linear in the text; nesting is capped at
/// ``ExprLimits/maxDepth`` so a hostile expression cannot exhaust the stack.
struct ExprParser {
    private let tokens: [ExprToken]
    private var position = 0
    private var depth = 0
    private(set) var nodeCount = 0

    init(tokens: [ExprToken]) {
        self.tokens = tokens
    }

    /// Parses a whole expression text.
    static func parse(_ text: String) throws(ExprError) -> ExprNode {
        if text.utf8.count > ExprLimits.maxTextBytes {
            throw ExprError(offset: 0, length: 1, code: "E401", message: "expression is longer than \(ExprLimits.maxTextBytes) bytes")
        }
        var lexer = ExprLexer(text)
        var parser = ExprParser(tokens: try lexer.tokens())
        let node = try parser.expression()
        guard case .end = parser.current.kind else {
            throw ExprError(offset: parser.current.offset, length: max(1, parser.current.length), code: "E202", message: "unexpected \(parser.describe(parser.current)) after the expression")
        }
        if parser.nodeCount > ExprLimits.maxNodes {
            throw ExprError(offset: 0, length: 1, code: "E402", message: "expression has \(parser.nodeCount) nodes; at most \(ExprLimits.maxNodes) are allowed")
        }
        return node
    }

    private var current: ExprToken { tokens[position] }

    private mutating func advance() -> ExprToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let s) = current.kind { return s == symbol }
        return false
    }

    private mutating func expect(_ symbol: String) throws(ExprError) -> ExprToken {
        guard isSymbol(symbol) else {
            throw ExprError(offset: current.offset, length: max(1, current.length), code: "E202", message: "expected '\(symbol)', found \(describe(current))")
        }
        return advance()
    }

    private func describe(_ token: ExprToken) -> String {
        switch token.kind {
        case .identifier(let name): "'\(name)'"
        case .int(let value): "'\(value)'"
        case .double(let value): "'\(value)'"
        case .string: "a string"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the expression"
        }
    }

    private mutating func make(_ syntax: ExprSyntax, from start: Int, to end: Int) -> ExprNode {
        nodeCount += 1
        return ExprNode(syntax: syntax, offset: start, length: max(1, end - start))
    }

    private mutating func enter() throws(ExprError) {
        depth += 1
        if depth > ExprLimits.maxDepth {
            throw ExprError(offset: current.offset, length: 1, code: "E403", message: "expression nests deeper than \(ExprLimits.maxDepth) levels")
        }
    }

    mutating func expression() throws(ExprError) -> ExprNode {
        try enter()
        defer { depth -= 1 }
        var left = try and()
        while isSymbol("||") {
            _ = advance()
            let right = try and()
            left = make(.binary("||", left, right), from: left.offset, to: right.end)
        }
        return left
    }

    private mutating func and() throws(ExprError) -> ExprNode {
        var left = try relation()
        while isSymbol("&&") {
            _ = advance()
            let right = try relation()
            left = make(.binary("&&", left, right), from: left.offset, to: right.end)
        }
        return left
    }

    private static let relations: Set<String> = ["==", "!=", "<", "<=", ">", ">="]

    private func relationOperator() -> String? {
        switch current.kind {
        case .symbol(let s) where Self.relations.contains(s): s
        case .identifier("in"): "in"
        default: nil
        }
    }

    private mutating func relation() throws(ExprError) -> ExprNode {
        let left = try additive()
        guard let op = relationOperator() else { return left }
        _ = advance()
        let right = try additive()
        if let next = relationOperator() {
            throw ExprError(offset: current.offset, length: max(1, current.length), code: "E202", message: "comparisons do not chain; use '&&' between '\(op)' and '\(next)'")
        }
        return make(.binary(op, left, right), from: left.offset, to: right.end)
    }

    private mutating func additive() throws(ExprError) -> ExprNode {
        var left = try multiplicative()
        while isSymbol("+") || isSymbol("-") {
            guard case .symbol(let op) = advance().kind else { break }
            let right = try multiplicative()
            left = make(.binary(op, left, right), from: left.offset, to: right.end)
        }
        return left
    }

    private mutating func multiplicative() throws(ExprError) -> ExprNode {
        var left = try unary()
        while isSymbol("*") || isSymbol("/") || isSymbol("%") {
            guard case .symbol(let op) = advance().kind else { break }
            let right = try unary()
            left = make(.binary(op, left, right), from: left.offset, to: right.end)
        }
        return left
    }

    private mutating func unary() throws(ExprError) -> ExprNode {
        if isSymbol("!") || isSymbol("-") {
            try enter()
            defer { depth -= 1 }
            let token = advance()
            guard case .symbol(let op) = token.kind else { fatalError("unreachable") }
            let operand = try unary()
            return make(.unary(op, operand), from: token.offset, to: operand.end)
        }
        return try member()
    }

    private mutating func member() throws(ExprError) -> ExprNode {
        var node = try primary()
        while true {
            if isSymbol(".") {
                _ = advance()
                guard case .identifier(let name) = current.kind else {
                    throw ExprError(offset: current.offset, length: max(1, current.length), code: "E202", message: "expected a field name after '.', found \(describe(current))")
                }
                let nameToken = advance()
                if isSymbol("(") {
                    let (args, close) = try arguments()
                    node = make(.method(node, name, args), from: node.offset, to: close.offset + 1)
                } else {
                    node = make(.member(node, name), from: node.offset, to: nameToken.offset + nameToken.length)
                }
            } else if isSymbol("[") {
                _ = advance()
                try enter()
                let key = try expression()
                depth -= 1
                let close = try expect("]")
                node = make(.index(node, key), from: node.offset, to: close.offset + 1)
            } else {
                return node
            }
        }
    }

    private mutating func arguments() throws(ExprError) -> ([ExprNode], ExprToken) {
        _ = try expect("(")
        var args: [ExprNode] = []
        if !isSymbol(")") {
            repeat {
                if !args.isEmpty { _ = advance() }
                args.append(try expression())
            } while isSymbol(",")
        }
        let close = try expect(")")
        return (args, close)
    }

    private mutating func primary() throws(ExprError) -> ExprNode {
        let token = current
        switch token.kind {
        case .int(let value):
            _ = advance()
            return make(.literal(.int(value)), from: token.offset, to: token.offset + token.length)
        case .double(let value):
            _ = advance()
            return make(.literal(.double(value)), from: token.offset, to: token.offset + token.length)
        case .string(let value):
            _ = advance()
            return make(.literal(.string(value)), from: token.offset, to: token.offset + token.length)
        case .identifier(let name):
            switch name {
            case "true", "false":
                _ = advance()
                return make(.literal(.bool(name == "true")), from: token.offset, to: token.offset + token.length)
            case "null":
                _ = advance()
                return make(.literal(.null), from: token.offset, to: token.offset + token.length)
            case "in":
                throw ExprError(offset: token.offset, length: token.length, code: "E202", message: "expected a value, found 'in'")
            default:
                _ = advance()
                if isSymbol("(") {
                    let (args, close) = try arguments()
                    return make(.call(name, args), from: token.offset, to: close.offset + 1)
                }
                return make(.identifier(name), from: token.offset, to: token.offset + token.length)
            }
        case .symbol("("):
            _ = advance()
            let inner = try expression()
            let close = try expect(")")
            return make(.parenthesized(inner), from: token.offset, to: close.offset + 1)
        case .symbol("["):
            _ = advance()
            var items: [ExprNode] = []
            if !isSymbol("]") {
                repeat {
                    if !items.isEmpty { _ = advance() }
                    items.append(try expression())
                } while isSymbol(",")
            }
            let close = try expect("]")
            if items.count > ExprLimits.maxListItems {
                throw ExprError(offset: token.offset, length: close.offset + 1 - token.offset, code: "E404", message: "list has \(items.count) items; at most \(ExprLimits.maxListItems) are allowed")
            }
            return make(.list(items), from: token.offset, to: close.offset + 1)
        case .end:
            throw ExprError(offset: token.offset, length: 1, code: "E202", message: "expression ends too early")
        case .symbol(let symbol):
            throw ExprError(offset: token.offset, length: token.length, code: "E202", message: "expected a value, found '\(symbol)'")
        }
    }
}

/// Load-time limits on expressions (rules-dsl.md §3.7).
package enum ExprLimits {
    package static let maxTextBytes = 2048
    package static let maxNodes = 256
    package static let maxDepth = 32
    package static let maxListItems = 64
    package static let maxRegexLength = 256
}
