import Crypto
import Foundation
import ObservatoryAuth
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("FIPS 180-4 example vectors")
    func vectors() {
        #expect(hex(ObservatoryAuth.SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(ObservatoryAuth.SHA256.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            hex(ObservatoryAuth.SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            hex(ObservatoryAuth.SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("agrees with swift-crypto on every length around the block boundaries and random inputs")
    func agreesWithSwiftCrypto() {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...130) + [511, 512, 513, 4096] {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            #expect(ObservatoryAuth.SHA256.hash(bytes) == Array(Crypto.SHA256.hash(data: Data(bytes))), "length \(length)")
        }
    }
}

@Suite("Token file and audit log")
struct TokenFileTests {
    func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("obs-auth-\(UUID().uuidString)").path
    }

    @Test("create, verify, list, revoke; only hashes on disk; every change audited")
    func lifecycle() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = TokenFile(dataDirectory: dir)
        #expect(try file.tokens().isEmpty)
        let control = try #require(try file.createInitialControlToken(actor: "test"))
        #expect(control.secret.hasPrefix("obsc_") && control.secret.count == 5 + 43)
        #expect(try file.createInitialControlToken(actor: "test") == nil)
        let phone = try file.create(name: "  phone ", scope: .device, actor: "test")
        #expect(phone.token.name == "phone" && phone.secret.hasPrefix("obsd_"))
        #expect(throws: TokenFileError.self) { try file.create(name: "phone", scope: .device, actor: "test") }
        #expect(throws: TokenFileError.self) { try file.create(name: " ", scope: .device, actor: "test") }

        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        #expect(!text.contains(control.secret) && !text.contains(phone.secret))
        #expect(text.contains(AccessToken.digest(of: phone.secret)))
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let verifier = TokenVerifier(file: file)
        #expect(verifier.verify(phone.secret, scopes: [.device])?.name == "phone")
        #expect(verifier.verify(phone.secret, scopes: [.control]) == nil)
        #expect(verifier.verify(control.secret, scopes: [.control])?.name == "control")
        #expect(verifier.verify(control.secret + "x", scopes: [.control]) == nil)
        #expect(verifier.verify("", scopes: [.control, .device]) == nil)

        #expect(try file.revoke("phone", actor: "test").id == phone.token.id)
        #expect(verifier.verify(phone.secret, scopes: [.device]) == nil)
        #expect(throws: TokenFileError.self) { try file.revoke("phone", actor: "test") }
        #expect(TokenTable.render(try file.tokens()).contains("control"))

        let audit = AuditLog(dataDirectory: dir).tail(limit: 10)
        #expect(audit.map(\.action) == ["token.create", "token.create", "token.revoke"])
        #expect(audit.allSatisfy { $0.time.hasSuffix("Z") && $0.time.count == 24 })
    }

    @Test("a damaged token file is an error, never an empty list that would let the sink make new tokens silently")
    func damaged() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = TokenFile(dataDirectory: dir)
        try "{not json".write(toFile: file.path, atomically: true, encoding: .utf8)
        #expect(throws: TokenFileError.self) { try file.tokens() }
        #expect(TokenVerifier(file: file).verify("obsc_x", scopes: [.control]) == nil)
    }

    @Test("the audit tail reads the last entries of a long log, across read chunks")
    func auditTail() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let log = AuditLog(dataDirectory: dir)
        for index in 0..<3000 {
            log.append(AuditEntry(time: 1_790_000_000 + Double(index), actor: "a", action: "x", target: "n\(index)", result: "ok"))
        }
        let last = log.tail(limit: 5)
        #expect(last.map(\.target) == ["n2995", "n2996", "n2997", "n2998", "n2999"])
        #expect(log.tail(limit: 5000).count == 3000)
        #expect(last.first?.time == "2026-09-21T15:03:15.000Z")  // 1_790_002_995 s
    }
}
