/// One token of a rule expression, with its position (in Unicode scalars from the start of the
/// expression text, the unit YAML column numbers use).
struct ExprToken: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case identifier(String)
        case int(Int64)
        case double(Double)
        case string(String)
        /// Operators and punctuation: `&& || ! == != < <= > >= + - * / % . , ( ) [ ]`.
        case symbol(String)
        case end
    }

    var kind: Kind
    var offset: Int
    var length: Int
}

/// Splits an expression into tokens (CEL lexical rules, minus bytes, raw and triple-quoted strings).
struct ExprLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// All tokens, ending with `.end`.
    mutating func tokens() throws(ExprError) -> [ExprToken] {
        var result: [ExprToken] = []
        while true {
            let token = try next()
            result.append(token)
            if token.kind == .end { return result }
        }
    }

    private mutating func next() throws(ExprError) -> ExprToken {
        while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        let start = index
        guard index < scalars.count else { return ExprToken(kind: .end, offset: start, length: 0) }
        let c = scalars[index]
        if c == "_" || c.properties.isAlphabetic && c.isASCII {
            var name = ""
            while index < scalars.count, scalars[index] == "_" || (scalars[index].isASCII && scalars[index].properties.isAlphabetic)
                || ("0"..."9").contains(scalars[index])
            {
                name.unicodeScalars.append(scalars[index])
                index += 1
            }
            return ExprToken(kind: .identifier(name), offset: start, length: index - start)
        }
        if ("0"..."9").contains(c) || (c == "." && index + 1 < scalars.count && ("0"..."9").contains(scalars[index + 1])) {
            return try number(start: start)
        }
        if c == "\"" || c == "'" {
            return try string(quote: c, start: start)
        }
        let two = index + 1 < scalars.count ? String(String.UnicodeScalarView([c, scalars[index + 1]])) : ""
        if ["&&", "||", "==", "!=", "<=", ">="].contains(two) {
            index += 2
            return ExprToken(kind: .symbol(two), offset: start, length: 2)
        }
        if "!<>+-*/%.,()[]".unicodeScalars.contains(c) {
            index += 1
            return ExprToken(kind: .symbol(String(c)), offset: start, length: 1)
        }
        if c == "&" || c == "|" {
            throw ExprError(offset: start, length: 1, code: "E201", message: "'\(c)' is not an operator; use '\(c)\(c)'")
        }
        if c == "=" {
            throw ExprError(offset: start, length: 1, code: "E201", message: "'=' is not an operator; use '==' to compare")
        }
        throw ExprError(offset: start, length: 1, code: "E201", message: "unexpected character '\(c)'")
    }

    private mutating func number(start: Int) throws(ExprError) -> ExprToken {
        var text = ""
        var isDouble = false
        if index + 1 < scalars.count, scalars[index] == "0", scalars[index + 1] == "x" || scalars[index + 1] == "X" {
            index += 2
            while index < scalars.count, scalars[index].properties.isASCIIHexDigit {
                text.unicodeScalars.append(scalars[index])
                index += 1
            }
            guard let value = Int64(text, radix: 16) else {
                throw ExprError(offset: start, length: index - start, code: "E201", message: "integer literal out of range")
            }
            return ExprToken(kind: .int(value), offset: start, length: index - start)
        }
        func digits() {
            while index < scalars.count, ("0"..."9").contains(scalars[index]) {
                text.unicodeScalars.append(scalars[index])
                index += 1
            }
        }
        digits()
        if index < scalars.count, scalars[index] == ".", index + 1 < scalars.count, ("0"..."9").contains(scalars[index + 1]) {
            isDouble = true
            text.append(".")
            index += 1
            digits()
        }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            isDouble = true
            text.append("e")
            index += 1
            if index < scalars.count, scalars[index] == "+" || scalars[index] == "-" {
                text.unicodeScalars.append(scalars[index])
                index += 1
            }
            digits()
        }
        if isDouble {
            guard let value = Double(text), value.isFinite else {
                throw ExprError(offset: start, length: index - start, code: "E201", message: "invalid number '\(text)'")
            }
            return ExprToken(kind: .double(value), offset: start, length: index - start)
        }
        guard let value = Int64(text) else {
            throw ExprError(offset: start, length: index - start, code: "E201", message: "integer literal out of range")
        }
        return ExprToken(kind: .int(value), offset: start, length: index - start)
    }

    private mutating func string(quote: Unicode.Scalar, start: Int) throws(ExprError) -> ExprToken {
        index += 1
        var value = ""
        while index < scalars.count {
            let c = scalars[index]
            if c == quote {
                index += 1
                return ExprToken(kind: .string(value), offset: start, length: index - start)
            }
            if c == "\n" { break }
            if c == "\\" {
                guard index + 1 < scalars.count else { break }
                let escaped = scalars[index + 1]
                index += 2
                switch escaped {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "r": value.append("\r")
                case "\\", "\"", "'", "`", "?": value.unicodeScalars.append(escaped)
                case "u":
                    guard index + 4 <= scalars.count,
                        let code = UInt32(String(String.UnicodeScalarView(scalars[index..<index + 4])), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else {
                        throw ExprError(offset: index - 2, length: 2, code: "E201", message: "invalid \\u escape")
                    }
                    value.unicodeScalars.append(scalar)
                    index += 4
                default:
                    throw ExprError(offset: index - 2, length: 2, code: "E201", message: "unknown escape '\\\(escaped)'")
                }
                continue
            }
            value.unicodeScalars.append(c)
            index += 1
        }
        throw ExprError(offset: start, length: index - start, code: "E201", message: "unterminated string")
    }
}

/// A problem with an expression, at an offset inside its text.
package struct ExprError: Error, Sendable, Hashable {
    package var offset: Int
    package var length: Int
    /// `E2xx` syntax and names, `E3xx` types, `E4xx` limits, `W3xx` warnings.
    package var code: String
    package var message: String
    package var isWarning: Bool = false

    package init(offset: Int, length: Int, code: String, message: String, isWarning: Bool = false) {
        self.offset = offset
        self.length = length
        self.code = code
        self.message = message
        self.isWarning = isWarning
    }
}
