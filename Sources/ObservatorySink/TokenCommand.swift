import ArgumentParser
import Foundation
import ObservatoryAuth
import SinkApp

/// `observatory-sink token create|list|revoke`: the same as `observatory token`, for where only the
/// sink is installed (its container image).
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke control and device tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token; it is shown once.")
        @OptionGroup var options: ConfigurationOptions
        @Flag(help: "A device token (read-only access from another machine) instead of a control token.")
        var device = false
        @Argument(help: "A name for the token (the device or person it is for).")
        var name: String

        func run() throws {
            let file = TokenFile(dataDirectory: try options.load().dataDirectory)
            let issued = try file.create(name: name, scope: device ? .device : .control, actor: TokenActor.cli)
            print(issued.secret)
            FileHandle.standardError.write(Data("\(issued.token.scope.rawValue) token \(issued.token.id) \"\(issued.token.name)\" created; it is not shown again\n".utf8))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var options: ConfigurationOptions

        func run() throws {
            let tokens = try TokenFile(dataDirectory: try options.load().dataDirectory).tokens()
            print(TokenTable.render(tokens))
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id or name; it stops working at once.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The token's id or name (see `token list`).")
        var token: String

        func run() throws {
            let revoked = try TokenFile(dataDirectory: try options.load().dataDirectory).revoke(token, actor: TokenActor.cli)
            print("revoked \(revoked.scope.rawValue) token \(revoked.id) \"\(revoked.name)\"")
        }
    }
}
