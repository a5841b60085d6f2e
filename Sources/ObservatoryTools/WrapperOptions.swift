/// The command line of `observatory run [--name NAME] [--id ID] [--grace SECONDS]
/// [--restart-with CMD… --] [--socket PATH] [--endpoint URL] [--verbose] -- CMD ARGS…`.
///
/// `--restart-with` takes every word up to the next `--`; the command after the last `--` is the
/// agent's. Parsed by hand (not by the argument parser) because both commands are open-ended.
package struct WrapperOptions: Sendable, Equatable {
    package var name: String?
    package var id: String?
    package var grace: Double = 5
    package var restartWith: [String]?
    package var socketPath: String?
    package var endpoint: String?
    package var verbose = false
    package var command: [String] = []

    package init() {}

    /// A usage error, said as a sentence.
    package struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    package static func parse(_ arguments: [String]) throws(UsageError) -> WrapperOptions {
        var options = WrapperOptions()
        var i = 0
        func value(_ flag: String) throws(UsageError) -> String {
            i += 1
            guard i < arguments.count else { throw UsageError("\(flag) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            var arg = arguments[i]
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "="), arg != "--" {
                inline = String(arg[arg.index(after: eq)...])
                arg = String(arg[..<eq])
            }
            func take() throws(UsageError) -> String {
                if let inline { return inline }
                return try value(arg)
            }
            switch arg {
            case "--":
                options.command = Array(arguments[(i + 1)...])
                i = arguments.count
                continue
            case "--name": options.name = try take()
            case "--id":
                let id = try take()
                guard !id.isEmpty, id.utf8.count <= 128, !id.contains(where: { $0 == "," || $0 == "=" || $0.isWhitespace }) else {
                    throw UsageError("--id must be 1–128 characters without spaces, ',' or '='")
                }
                options.id = id
            case "--grace":
                let text = try take()
                guard let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= 300 else {
                    throw UsageError("--grace must be seconds from 0 to 300, not \(text)")
                }
                options.grace = seconds
            case "--socket": options.socketPath = try take()
            case "--endpoint": options.endpoint = try take()
            case "--verbose", "-v": options.verbose = true
            case "--restart-with":
                var words: [String] = []
                if let inline { words.append(inline) }
                i += 1
                while i < arguments.count, arguments[i] != "--" {
                    words.append(arguments[i])
                    i += 1
                }
                guard !words.isEmpty else { throw UsageError("--restart-with needs a command (ended by --)") }
                options.restartWith = words
                continue  // `--` is next and starts the agent's command
            default:
                throw UsageError("unknown option \(arg) (the agent's command goes after --)")
            }
            i += 1
        }
        guard !options.command.isEmpty, !options.command[0].isEmpty else {
            throw UsageError("no command: observatory run [options] -- COMMAND ARGS…")
        }
        return options
    }
}
