#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import ObservatoryTools

/// Entry point. `observatory hook` is dispatched before argument parsing: it must never exit
/// non-zero (an unknown flag would make the parser exit 64) and must start as fast as possible.
@main
enum ObservatoryMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "hook", !arguments.contains("--help"), !arguments.contains("-h") {
            runHook(Array(arguments.dropFirst()))
        }
        if arguments.first == "run" {
            let beforeCommand = arguments.dropFirst().prefix(while: { $0 != "--" })
            if !beforeCommand.contains("--help") && !beforeCommand.contains("-h") { runWrapper(Array(arguments.dropFirst())) }
        }
        ObservatoryCommand.main()
    }

    /// `observatory run`: parses its own arguments (see ``WrapperOptions``) and exits with the
    /// agent's status.
    static func runWrapper(_ arguments: [String]) -> Never {
        let options: WrapperOptions
        do {
            options = try WrapperOptions.parse(arguments)
        } catch {
            Terminal.error("\(error.description)\nusage: observatory run [--name NAME] [--id ID] [--grace SECONDS] [--restart-with CMD… --] -- CMD ARGS…")
            exit(2)
        }
        let wrapper = AgentWrapper(options: options, processEnvironment: ObservatoryPaths.processEnvironment())
        exit(wrapper.run())
    }

    /// Runs the hook bridge under a watchdog and exits 0, whatever happens.
    static func runHook(_ arguments: [String]) -> Never {
        signal(SIGPIPE, SIG_IGN)
        // Last line of defence: whatever hangs (a lock, a resolver), the agent gets its hook
        // back 280 ms after start. The budgets inside HookBridge end well before.
        signal(SIGALRM) { _ in _exit(0) }
        var timer = itimerval(it_interval: timeval(tv_sec: 0, tv_usec: 0), it_value: timeval(tv_sec: 0, tv_usec: 280_000))
        #if canImport(Glibc)
        setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil)
        #else
        setitimer(ITIMER_REAL, &timer, nil)
        #endif
        HookBridge.runCommand(arguments: arguments, environment: ObservatoryPaths.processEnvironment())
        exit(0)
    }
}

/// `observatory`: the operator's command line.
struct ObservatoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observatory",
        abstract: "Wire AI coding agents to the Agent Observatory and check the wiring.",
        subcommands: [
            HookCommand.self, SetupCommand.self, DoctorCommand.self, TokenCommand.self, RunCommand.self, HelperCommand.self,
            AgentsCommand.self, KillCommand.self, RestartCommand.self,
        ]
    )
}
