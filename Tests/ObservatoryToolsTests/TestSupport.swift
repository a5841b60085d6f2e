import Foundation
import ObservatoryControl
import ObservatoryTools

/// A fresh directory standing in for `HOME` (tests never touch the real home).
struct TemporaryHome {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("observatory-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var paths: ObservatoryPaths { ObservatoryPaths(environment: ["HOME": path]) }

    func write(_ relative: String, _ text: String) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOf: url.appendingPathComponent(relative), encoding: .utf8)
    }

    func files(under relative: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: url.appendingPathComponent(relative).path)) ?? []
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// The hook payload fixtures (shaped after the Claude Code hooks reference and Codex's notify docs).
enum HookFixtures {
    static var directory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/hooks")
    }

    static func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func payload(_ name: String) throws -> JSONValue {
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".json"))
        return try JSONValue.parse(bytes: Array(data)).value
    }
}
