import ArgumentParser
import ObservatoryControl
import ObservatoryTools

/// Text output of the agent commands.
enum AgentTable {
    static func render(_ list: HelperAgentList, now: Double) -> String {
        var out = ""
        if list.agents.isEmpty {
            out += "no agents running under `observatory run`\n"
        } else {
            var rows = [["ID", "NAME", "PID", "UP", "RESTARTS", "COMMAND"]]
            for a in list.agents {
                rows.append([a.id, a.name, String(a.pid), duration(now - a.started), String(a.restarts), a.argv.joined(separator: " ")])
            }
            out += table(rows)
        }
        if !list.unwrapped.isEmpty {
            out += "\nnot under `observatory run` (read-only):\n"
            var rows = [["PID", "KIND", "CWD", "COMMAND"]]
            for u in list.unwrapped { rows.append([String(u.pid), u.kind, u.cwd ?? "-", u.argv.joined(separator: " ")]) }
            out += table(rows)
        }
        return out
    }

    static func perform(json: Bool, _ call: () throws(HelperClientError) -> HelperCommandResult) throws {
        let result: HelperCommandResult
        do {
            result = try call()
        } catch {
            Terminal.error(error.description)
            throw ExitCode(1)
        }
        if json {
            print(JSONValue.object(result.jsonMembers).compactText)
        } else {
            var text = result.ok ? "stopped pid \(result.pid)" : "failed: \(result.message ?? "?")"
            if let code = result.exitCode { text += " (exit \(code))" }
            if let signal = result.exitSignal { text += " (signal \(signal))" }
            if result.escalated { text += ", SIGKILL needed" }
            if let new = result.newPID { text += "; restarted as pid \(new)" }
            print(text)
        }
        if !result.ok { throw ExitCode(1) }
    }

    private static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-" }
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        return "\(s / 3600)h\(s % 3600 / 60)m"
    }

    private static func table(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() where i < row.count - 1 { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in rows {
            for (i, cell) in row.enumerated() {
                out += i < row.count - 1 ? cell + String(repeating: " ", count: widths[i] - cell.count + 2) : cell
            }
            out += "\n"
        }
        return out
    }
}
