/// Resolves names and checks types of a parsed expression against the rule schema
/// (``SessionField``, ``EventField``, `value`). Type errors are caught here, at load time.
struct ExprCompiler {
    let scope: ExprScope
    private(set) var warnings: [ExprError] = []

    init(scope: ExprScope) {
        self.scope = scope
    }

    mutating func compile(_ node: ExprNode) throws(ExprError) -> (CompiledExpr, ExprType) {
        switch node.syntax {
        case .literal(let value):
            return (.literal(value), Self.type(of: value))
        case .parenthesized(let inner):
            return try compile(inner)
        case .identifier, .member, .index:
            return try path(node)
        case .list(let items):
            var compiled: [CompiledExpr] = []
            for item in items { compiled.append(try compile(item).0) }
            return (.list(compiled), .list)
        case .unary("!", let operand):
            let (inner, type) = try compile(operand)
            try requireBool(type, operand, "'!'")
            return (.not(inner), .bool)
        case .unary(_, let operand):
            let (inner, type) = try compile(operand)
            try requireNumber(type, operand, "'-'")
            return (.negate(inner), type)
        case .binary(let op, let left, let right):
            return try binary(op, left, right, node)
        case .call(let name, let args):
            return try call(name, args, node)
        case .method(let receiver, let name, let args):
            return try method(receiver, name, args, node)
        }
    }

    private static func type(of value: ExprValue) -> ExprType {
        switch value {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .double: .double
        case .string: .string
        case .list: .list
        case .map: .map
        case .unknown: .dyn
        }
    }

    private func requireBool(_ type: ExprType, _ node: ExprNode, _ what: String) throws(ExprError) {
        guard type == .bool || type == .dyn else {
            throw ExprError(offset: node.offset, length: node.length, code: "E301", message: "\(what) needs a bool, not \(type.rawValue)")
        }
    }

    private func requireNumber(_ type: ExprType, _ node: ExprNode, _ what: String) throws(ExprError) {
        guard type.isNumeric || type == .dyn else {
            throw ExprError(offset: node.offset, length: node.length, code: "E301", message: "\(what) needs a number, not \(type.rawValue)")
        }
    }

    private func requireString(_ type: ExprType, _ node: ExprNode, _ what: String) throws(ExprError) {
        guard type == .string || type == .dyn else {
            throw ExprError(offset: node.offset, length: node.length, code: "E301", message: "\(what) needs a string, not \(type.rawValue)")
        }
    }

    /// The dotted path of a member chain rooted at an identifier, with string-literal indexes.
    private func segments(_ node: ExprNode) throws(ExprError) -> [(String, ExprNode)] {
        switch node.syntax {
        case .identifier(let name):
            return [(name, node)]
        case .member(let base, let name):
            return try segments(base) + [(name, node)]
        case .index(let base, let key):
            guard case .literal(.string(let name)) = key.syntax else {
                throw ExprError(offset: key.offset, length: key.length, code: "E303", message: "index with a string literal, e.g. event.attrs[\"http.status_code\"]")
            }
            return try segments(base) + [(name, node)]
        case .parenthesized(let inner):
            return try segments(inner)
        default:
            throw ExprError(offset: node.offset, length: node.length, code: "E303", message: "fields can only be read from session, event or value")
        }
    }

    private func path(_ node: ExprNode) throws(ExprError) -> (CompiledExpr, ExprType) {
        let parts = try segments(node)
        let root = parts[0].0
        let rest = parts.dropFirst().map(\.0)
        func unknown(_ message: String) -> ExprError {
            ExprError(offset: node.offset, length: node.length, code: "E204", message: message)
        }
        switch root {
        case "session":
            let name = rest.joined(separator: ".")
            if name.isEmpty { throw unknown("'session' is not a value; use a field such as session.status") }
            guard let field = SessionField(rawValue: name) else {
                let hint = suggestion(for: name, among: SessionField.allCases.map(\.rawValue)).map { "; did you mean 'session.\($0)'?" } ?? ""
                throw unknown("unknown field 'session.\(name)'\(hint)")
            }
            return (.session(field), field.type)
        case "event":
            guard scope.event else {
                throw unknown("'event' is not available here: this expression is evaluated on ticks, without an event")
            }
            guard let first = rest.first else { throw unknown("'event' is not a value; use a field such as event.kind") }
            guard let field = EventField(rawValue: first) else {
                let hint = suggestion(for: first, among: EventField.allCases.map(\.rawValue)).map { "; did you mean 'event.\($0)'?" } ?? ""
                throw unknown("unknown field 'event.\(first)'\(hint)")
            }
            if field == .attrs {
                if rest.count == 1 { return (.event(.attrs), .map) }
                return (.attribute(rest.dropFirst().joined(separator: ".")), .dyn)
            }
            guard rest.count == 1 else { throw unknown("event.\(first) has no fields") }
            return (.event(field), field.type)
        case "value":
            guard scope.value else { throw unknown("'value' is only available in window conditions and resolve_when of window rules") }
            guard rest.isEmpty else { throw unknown("'value' is a number and has no fields") }
            return (.value, .double)
        default:
            let candidates = ["session", "event"] + (scope.value ? ["value"] : [])
            let hint = suggestion(for: root, among: candidates).map { "; did you mean '\($0)'?" } ?? "; names start with session., event. or value"
            throw unknown("unknown name '\(root)'\(hint)")
        }
    }

    private mutating func binary(_ op: String, _ left: ExprNode, _ right: ExprNode, _ node: ExprNode) throws(ExprError)
        -> (CompiledExpr, ExprType)
    {
        let (l, lt) = try compile(left)
        let (r, rt) = try compile(right)
        switch op {
        case "&&", "||":
            try requireBool(lt, left, "'\(op)'")
            try requireBool(rt, right, "'\(op)'")
            return (op == "&&" ? .and(l, r) : .or(l, r), .bool)
        case "+", "-", "*", "/", "%":
            try requireNumber(lt, left, "'\(op)'")
            try requireNumber(rt, right, "'\(op)'")
            let kind: CompiledExpr.Arithmetic =
                switch op {
                case "+": .add
                case "-": .subtract
                case "*": .multiply
                case "/": .divide
                default: .remainder
                }
            let type: ExprType = lt == .int && rt == .int ? .int : (lt == .dyn || rt == .dyn ? .dyn : .double)
            return (.arithmetic(kind, l, r), type)
        case "in":
            guard rt == .list || rt == .map || rt == .dyn else {
                throw ExprError(offset: right.offset, length: right.length, code: "E301", message: "'in' needs a list or a map on its right, not \(rt.rawValue)")
            }
            return (.contained(l, in: r), .bool)
        default:
            if case .unary("!", _) = left.syntax, op == "==" || op == "!=" {
                warnings.append(ExprError(offset: left.offset, length: node.length, code: "W302", message: "'!a \(op) b' means '(!a) \(op) b'; add parentheses to say which you mean", isWarning: true))
            }
            let comparison: CompiledExpr.Comparison =
                switch op {
                case "==": .equal
                case "!=": .notEqual
                case "<": .less
                case "<=": .lessOrEqual
                case ">": .greater
                default: .greaterOrEqual
                }
            if op == "==" || op == "!=" {
                if lt.isKnown, rt.isKnown, lt != .null, rt != .null, lt != rt, !(lt.isNumeric && rt.isNumeric) {
                    throw ExprError(offset: node.offset, length: node.length, code: "E302", message: "'\(op)' compares \(lt.rawValue) with \(rt.rawValue); it can never be true")
                }
            } else {
                for (type, side) in [(lt, left), (rt, right)] where type.isKnown && !type.isNumeric && type != .string {
                    throw ExprError(offset: side.offset, length: side.length, code: "E301", message: "'\(op)' compares numbers or strings, not \(type.rawValue)")
                }
                if lt.isKnown, rt.isKnown, lt.isNumeric != rt.isNumeric {
                    throw ExprError(offset: node.offset, length: node.length, code: "E302", message: "'\(op)' compares \(lt.rawValue) with \(rt.rawValue)")
                }
            }
            return (.compare(comparison, l, r), .bool)
        }
    }

    private func arity(_ name: String, _ args: [ExprNode], _ count: Int, _ node: ExprNode) throws(ExprError) {
        guard args.count == count else {
            throw ExprError(offset: node.offset, length: node.length, code: "E205", message: "\(name) takes \(count) argument\(count == 1 ? "" : "s"), not \(args.count)")
        }
    }

    private mutating func call(_ name: String, _ args: [ExprNode], _ node: ExprNode) throws(ExprError) -> (CompiledExpr, ExprType) {
        switch name {
        case "has":
            try arity(name, args, 1, node)
            switch args[0].syntax {
            case .member, .index: break
            default:
                throw ExprError(offset: args[0].offset, length: args[0].length, code: "E205", message: "has() takes a field, e.g. has(event.attrs.status_code)")
            }
            return (.has(try path(args[0]).0), .bool)
        case "size":
            try arity(name, args, 1, node)
            let (inner, type) = try compile(args[0])
            guard [.string, .list, .map, .dyn].contains(type) else {
                throw ExprError(offset: args[0].offset, length: args[0].length, code: "E301", message: "size() needs a string, list or map, not \(type.rawValue)")
            }
            return (.size(inner), .int)
        case "int", "double", "string":
            try arity(name, args, 1, node)
            let inner = try compile(args[0]).0
            switch name {
            case "int": return (.toInt(inner), .int)
            case "double": return (.toDouble(inner), .double)
            default: return (.toString(inner), .string)
            }
        case "coalesce":
            guard args.count >= 2 else {
                throw ExprError(offset: node.offset, length: node.length, code: "E205", message: "coalesce takes at least 2 arguments")
            }
            var compiled: [CompiledExpr] = []
            var types: Set<ExprType> = []
            for arg in args {
                let (c, t) = try compile(arg)
                compiled.append(c)
                types.insert(t)
            }
            let known = types.subtracting([.dyn])
            return (.coalesce(compiled), known.count == 1 ? known.first! : .dyn)
        default:
            let hint = suggestion(for: name, among: ["has", "size", "int", "double", "string", "coalesce"]).map { "; did you mean '\($0)'?" } ?? ""
            throw ExprError(offset: node.offset, length: name.unicodeScalars.count, code: "E205", message: "unknown function '\(name)'\(hint)")
        }
    }

    private mutating func method(_ receiver: ExprNode, _ name: String, _ args: [ExprNode], _ node: ExprNode) throws(ExprError)
        -> (CompiledExpr, ExprType)
    {
        let (target, type) = try compile(receiver)
        switch name {
        case "startsWith", "endsWith", "contains":
            try requireString(type, receiver, "\(name)()")
            try arity(name, args, 1, node)
            let (arg, argType) = try compile(args[0])
            try requireString(argType, args[0], "\(name)()")
            let test: CompiledExpr.StringTest = name == "startsWith" ? .startsWith : name == "endsWith" ? .endsWith : .contains
            return (.stringTest(test, target, arg), .bool)
        case "matches":
            try requireString(type, receiver, "matches()")
            try arity(name, args, 1, node)
            guard case .literal(.string(let pattern)) = args[0].syntax else {
                throw ExprError(offset: args[0].offset, length: args[0].length, code: "E205", message: "matches() takes a string literal")
            }
            if pattern.unicodeScalars.count > ExprLimits.maxRegexLength {
                throw ExprError(offset: args[0].offset, length: args[0].length, code: "E405", message: "regular expression is longer than \(ExprLimits.maxRegexLength) characters")
            }
            do {
                return (.matches(target, try CompiledRegex(pattern: pattern)), .bool)
            } catch {
                throw ExprError(offset: args[0].offset, length: args[0].length, code: "E206", message: "invalid regular expression")
            }
        case "lowerAscii":
            try requireString(type, receiver, "lowerAscii()")
            try arity(name, args, 0, node)
            return (.lowerASCII(target), .string)
        default:
            let hint = suggestion(for: name, among: ["startsWith", "endsWith", "contains", "matches", "lowerAscii"]).map { "; did you mean '\($0)'?" } ?? ""
            throw ExprError(offset: node.offset, length: node.length, code: "E205", message: "unknown method '\(name)'\(hint)")
        }
    }
}
