#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ObservatoryControl
import Testing

/// The client against a socket nobody listens on, and ControlPaths.
@Suite struct HelperClientTests {
    @Test func unreachableWhenNothingListens() {
        let client = HelperClient(socketPath: "/nonexistent-dir-\(getpid())/helper.sock")
        #expect(throws: HelperClientError.self) { try client.list(timeout: 1) }
        do {
            _ = try client.list(timeout: 1)
        } catch {
            guard case .unreachable(let path, _) = error else {
                Issue.record("expected unreachable, got \(error)")
                return
            }
            #expect(path.hasSuffix("/helper.sock"))
        }
    }

    @Test func socketPathPrecedence() {
        #expect(ControlPaths.helperSocket(environment: ["OBSERVATORY_HELPER_SOCKET": "/x/h.sock", "XDG_RUNTIME_DIR": "/run/user/1"]) == "/x/h.sock")
        let runtime = "/tmp/observatory-control-test-\(getpid())"
        #expect(ControlPaths.helperSocket(environment: ["XDG_RUNTIME_DIR": runtime]) == runtime + "/observatory/helper.sock")
        var st = stat()
        #expect(stat(runtime + "/observatory", &st) == 0)
        #expect(st.st_mode & 0o777 == 0o700)
        rmdir(runtime + "/observatory")
        rmdir(runtime)
        #expect(ControlPaths.helperSocket(environment: [:]) == "/tmp/observatory-\(getuid())/helper.sock")
    }

    @Test func tooLongSocketPathIsAnError() {
        let client = HelperClient(socketPath: "/" + String(repeating: "x", count: 200))
        #expect(throws: HelperClientError.self) { try client.list(timeout: 1) }
    }
}
