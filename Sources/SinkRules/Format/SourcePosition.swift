import Yams

/// Maps an offset inside a scalar's *value* back to a line and column of the source, through
/// quoting, escapes and the line folding of plain, quoted, `|` literal and `>` folded scalars (the
/// problem Prometheus hit when adding positions, prometheus PR #6533).
enum SourcePosition {
    static func locate(offset: Int, in scalar: Node.Scalar, lines: [Substring]) -> (line: Int, column: Int) {
        guard let mark = scalar.mark else { return (1, 1) }
        func scalars(_ line: Int) -> [Unicode.Scalar] {
            line >= 1 && line <= lines.count ? Array(lines[line - 1].unicodeScalars) : []
        }
        switch scalar.style {
        case .literal, .folded:
            // Content starts on the next line, indented; every line break counts as one character.
            var line = mark.line + 1
            var remaining = offset
            var indent: Int?
            while line <= lines.count {
                let text = scalars(line)
                let leading = text.prefix(while: { $0 == " " }).count
                if indent == nil, leading < text.count { indent = leading }
                let start = min(indent ?? leading, text.count)
                let length = text.count - start
                if remaining <= length { return (line, start + remaining + 1) }
                remaining -= length + 1
                line += 1
            }
            return (mark.line, mark.column)
        case .singleQuoted, .doubleQuoted:
            let quote: Unicode.Scalar = scalar.style == .singleQuoted ? "'" : "\""
            var line = mark.line
            var column = mark.column  // 1-based column of the opening quote
            var text = scalars(line)
            var index = column  // 0-based index of the first character after the quote
            var decoded = 0
            while decoded < offset {
                if index >= text.count {
                    line += 1
                    text = scalars(line)
                    guard !text.isEmpty || line <= lines.count else { break }
                    index = text.prefix(while: { $0 == " " || $0 == "\t" }).count
                    decoded += 1
                    continue
                }
                if quote == "'", text[index] == "'", index + 1 < text.count, text[index + 1] == "'" {
                    index += 2
                } else if quote == "\"", text[index] == "\\", index + 1 < text.count {
                    switch text[index + 1] {
                    case "x": index += 4
                    case "u": index += 6
                    case "U": index += 10
                    default: index += 2
                    }
                } else {
                    index += 1
                }
                decoded += 1
            }
            column = index + 1
            return (line, column)
        default:
            var line = mark.line
            var text = scalars(line)
            var index = mark.column - 1
            var decoded = 0
            while decoded < offset {
                if index >= text.count {
                    line += 1
                    text = scalars(line)
                    guard line <= lines.count else { break }
                    index = text.prefix(while: { $0 == " " || $0 == "\t" }).count
                    decoded += 1
                    continue
                }
                index += 1
                decoded += 1
            }
            return (line, index + 1)
        }
    }
}
