#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import ObservatoryAuth
import ObservatoryTools

/// `observatory token create|list|revoke`: control tokens (stop and restart agents) and device
/// tokens (read-only access from another machine). Tokens live hashed in `tokens.json` in the sink's
/// data directory; the sink notices changes on the next request, no restart needed.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke control and device tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct DataDirectoryOption: ParsableArguments {
        @Option(help: "The sink's data directory (default: $OBSERVATORY_DATA_DIR, else $XDG_DATA_HOME/observatory, else ~/.local/share/observatory).")
        var dataDir: String?

        var tokenFile: TokenFile {
            let environment = ObservatoryPaths.processEnvironment()
            if let dataDir { return TokenFile(dataDirectory: dataDir) }
            if let explicit = environment["OBSERVATORY_DATA_DIR"], !explicit.isEmpty { return TokenFile(dataDirectory: explicit) }
            if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") { return TokenFile(dataDirectory: xdg + "/observatory") }
            return TokenFile(dataDirectory: ObservatoryPaths(environment: environment).home + "/.local/share/observatory")
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token and print it (once: only its hash is kept).",
            discussion: """
                A control token stops and restarts agents (the dashboard asks for it the first time you press Kill; \
                scripts send it as Authorization: Bearer). A device token (--device) logs a browser or phone in \
                from another machine, read-only.
                """)
        @OptionGroup var options: DataDirectoryOption
        @Flag(help: "Issue a device token (read-only, for a phone or another machine) instead of a control token.")
        var device = false
        @Argument(help: "A name for the token: the device or person it is for.")
        var name: String

        func run() throws {
            let issued = try options.tokenFile.create(name: name, scope: device ? .device : .control, actor: TokenActor.cli)
            print(issued.secret)
            var note = "\(issued.token.scope.rawValue) token \(issued.token.id) \"\(issued.token.name)\" created; it is not shown again\n"
            note.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tokens (never their secrets).")
        @OptionGroup var options: DataDirectoryOption

        func run() throws {
            print(TokenTable.render(try options.tokenFile.tokens()))
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id or name; it stops working at once.")
        @OptionGroup var options: DataDirectoryOption
        @Argument(help: "The token's id or name (see `observatory token list`).")
        var token: String

        func run() throws {
            let revoked = try options.tokenFile.revoke(token, actor: TokenActor.cli)
            print("revoked \(revoked.scope.rawValue) token \(revoked.id) \"\(revoked.name)\"")
        }
    }
}
