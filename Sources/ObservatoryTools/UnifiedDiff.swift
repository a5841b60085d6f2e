/// A unified diff of two texts, line by line (what `diff -u` prints), for showing what `setup`
/// changes. Settings files are small; the longest-common-subsequence table is fine.
package enum UnifiedDiff {
    /// The diff of `old` and `new` under the given file labels; "" when they are equal.
    package static func make(old: String, new: String, oldLabel: String, newLabel: String, context: Int = 3) -> String {
        guard old != new else { return "" }
        let a = lines(old)
        let b = lines(new)
        // lcs[i][j] = length of the LCS of a[i...] and b[j...]
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        enum Op { case same(Int, Int), del(Int), add(Int) }
        var ops: [Op] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                ops.append(.same(i, j)); i += 1; j += 1
            } else if i < a.count, j == b.count || lcs[i + 1][j] >= lcs[i][j + 1] {
                ops.append(.del(i)); i += 1  // deletions first, as diff -u prints them
            } else {
                ops.append(.add(j)); j += 1
            }
        }
        // Group changes with `context` lines around them into hunks.
        let changed = ops.indices.filter { if case .same = ops[$0] { return false } else { return true } }
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(ops.count - 1, index + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        var out = "--- \(oldLabel)\n+++ \(newLabel)\n"
        for hunk in hunks {
            var oldStart: Int?
            var newStart: Int?
            var oldCount = 0
            var newCount = 0
            var body = ""
            for op in ops[hunk] {
                switch op {
                case .same(let x, let y):
                    oldStart = oldStart ?? x; newStart = newStart ?? y
                    oldCount += 1; newCount += 1
                    body += " " + a[x] + "\n"
                case .del(let x):
                    oldStart = oldStart ?? x
                    oldCount += 1
                    body += "-" + a[x] + "\n"
                case .add(let y):
                    newStart = newStart ?? y
                    newCount += 1
                    body += "+" + b[y] + "\n"
                }
            }
            // With context lines a side is empty only when its whole file is (diff -u says 0).
            let os = oldCount == 0 ? 0 : (oldStart ?? 0) + 1
            let ns = newCount == 0 ? 0 : (newStart ?? 0) + 1
            out += "@@ -\(os),\(oldCount) +\(ns),\(newCount) @@\n" + body
        }
        return out
    }

    private static func lines(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}
