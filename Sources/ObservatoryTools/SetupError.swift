/// Why `setup` would not change a file. It never writes a file it cannot fully understand.
package enum SetupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON file has comments; rewriting it would drop them.
    case hasComments(path: String)
    /// The file is not valid JSON.
    case invalidJSON(path: String, message: String)
    /// A key that setup must edit holds something unexpected.
    case unexpectedShape(path: String, key: String, expected: String)
    /// The agent has no such settings scope.
    case unsupportedScope(agent: String, scope: String)
    /// Reading or writing failed.
    case io(String)

    package var description: String {
        switch self {
        case .hasComments(let path):
            "\(path) contains comments, which rewriting it would lose; nothing was changed. "
                + "Make the changes by hand (see docs/agents.md) or remove the comments and run setup again."
        case .invalidJSON(let path, let message): "\(path) is not valid JSON (\(message)); nothing was changed."
        case .unexpectedShape(let path, let key, let expected):
            "\(path): `\(key)` is not \(expected); nothing was changed."
        case .unsupportedScope(let agent, let scope): "\(agent) has no \(scope) settings that setup can write."
        case .io(let message): message
        }
    }
}
