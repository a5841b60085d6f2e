#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `token list` output: one line per token, never a secret.
package enum TokenTable {
    package static func render(_ tokens: [AccessToken]) -> String {
        guard !tokens.isEmpty else { return "no tokens (the sink makes a control token on its first start)" }
        let rows = [["ID", "SCOPE", "NAME", "CREATED"]] + tokens.map { [$0.id, $0.scope.rawValue, $0.name, $0.created] }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                line += cell
                if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count + 2) }
            }
            return line
        }.joined(separator: "\n")
    }
}

/// Who the audit log names for a token change made from the command line.
package enum TokenActor {
    package static var cli: String { "cli (uid \(getuid()))" }
}
