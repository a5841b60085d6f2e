import ObservatoryControl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reading processes from /proc (Linux).
package enum ProcessTable {
    /// Every process's stat (processes that vanish while reading are skipped).
    package static func snapshot() -> [ProcStat] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var out: [ProcStat] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = Int32(name), pid > 0, let stat = processStat(pid: pid) else { continue }
            out.append(stat)
        }
        return out
    }

    /// `/proc/<pid>/stat`, parsed.
    package static func processStat(pid: Int32) -> ProcStat? {
        guard let bytes = POSIXFile.read("/proc/\(pid)/stat") else { return nil }
        return ProcStat(text: String(decoding: bytes, as: UTF8.self))
    }

    /// `/proc/<pid>/cmdline` split at NULs (empty for kernel threads and zombies).
    package static func argv(pid: Int32, maxBytes: Int = 16384) -> [String] {
        guard var bytes = POSIXFile.read("/proc/\(pid)/cmdline") else { return [] }
        if bytes.count > maxBytes { bytes = Array(bytes[0..<maxBytes]) }
        if bytes.last == 0 { bytes.removeLast() }
        guard !bytes.isEmpty else { return [] }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The working directory of `pid`, if readable.
    package static func cwd(pid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/\(pid)/cwd", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The owner of `pid`.
    package static func uid(pid: Int32) -> UInt32? {
        var st = stat()
        guard stat("/proc/\(pid)", &st) == 0 else { return nil }
        return st.st_uid
    }

    /// The pids in `table` that descend from `ancestor` (not including it).
    package static func descendants(of ancestor: Int32, in table: [ProcStat]) -> Set<Int32> {
        var children: [Int32: [Int32]] = [:]
        for p in table { children[p.ppid, default: []].append(p.pid) }
        var out = Set<Int32>()
        var stack = children[ancestor] ?? []
        while let pid = stack.popLast() {
            guard out.insert(pid).inserted else { continue }
            stack += children[pid] ?? []
        }
        return out
    }

    /// The descendants of `ancestor` from the kernel's per-thread `children` lists (cheap: only
    /// the tree is read, not every process); falls back to a full snapshot when the kernel has no
    /// such lists (CONFIG_PROC_CHILDREN). Zombies are left out.
    package static func livingDescendants(of ancestor: Int32) -> [Int32] {
        guard POSIXFile.exists("/proc/\(ancestor)/task/\(ancestor)/children") else {
            let table = snapshot()
            let pids = descendants(of: ancestor, in: table)
            return table.filter { pids.contains($0.pid) && $0.state != "Z" }.map(\.pid)
        }
        var out: [Int32] = []
        var seen = Set<Int32>()
        var stack = [ancestor]
        while let pid = stack.popLast(), seen.count < 100_000 {
            for child in children(of: pid) where seen.insert(child).inserted {
                stack.append(child)
                if processStat(pid: child).map({ $0.state != "Z" }) ?? false { out.append(child) }
            }
        }
        return out
    }

    /// The children of every thread of `pid`.
    private static func children(of pid: Int32) -> [Int32] {
        guard let dir = opendir("/proc/\(pid)/task") else { return [] }
        defer { closedir(dir) }
        var out: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard Int32(name) != nil, let bytes = POSIXFile.read("/proc/\(pid)/task/\(name)/children") else { continue }
            out += bytes.split(separator: UInt8(ascii: " ")).compactMap { Int32(String(decoding: $0, as: UTF8.self)) }
        }
        return out
    }

    /// Clock ticks per second (`_SC_CLK_TCK`).
    package static let ticksPerSecond: Double = {
        let t = sysconf(Int32(_SC_CLK_TCK))
        return t > 0 ? Double(t) : 100
    }()

    /// Bytes per page.
    package static let pageSize: Int64 = {
        let p = sysconf(Int32(_SC_PAGESIZE))
        return p > 0 ? Int64(p) : 4096
    }()
}
