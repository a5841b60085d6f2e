import ArgumentParser
import ObservatoryControl
import ObservatoryTools

/// `observatory helper [--socket PATH]`: the local control daemon.
struct HelperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helper",
        abstract: "Run the control helper: the local socket through which agents started with `observatory run` are killed or restarted.",
        discussion: """
            Listens on a Unix socket (mode 0600, in a 0700 directory) and only answers processes \
            of the same user. Logs to stderr. Stops on SIGTERM or SIGINT and removes its socket.
            """
    )

    @Option(help: "The socket (default: $OBSERVATORY_HELPER_SOCKET, else $XDG_RUNTIME_DIR/observatory/helper.sock, else /tmp/observatory-UID/helper.sock).")
    var socket: String?

    func run() throws {
        let path = socket ?? ControlPaths.helperSocket(environment: ObservatoryPaths.processEnvironment())
        let daemon = HelperDaemon(socketPath: path)
        do {
            try daemon.start()
        } catch {
            Terminal.error(error.description)
            throw ExitCode(1)
        }
        daemon.run()
    }
}
