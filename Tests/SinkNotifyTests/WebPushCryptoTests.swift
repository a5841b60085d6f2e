import Crypto
import Foundation
import SinkNotify
import Testing

/// RFC 8291 Appendix A and RFC 8292 (VAPID).
struct WebPushEncryptionTests {
    // RFC 8291 §5 / Appendix A.
    static let plaintext = "When I grow up, I want to be a watermelon"
    static let asPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
    static let asPublic = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
    static let uaPublic = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
    static let uaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
    static let salt = "DGv6ra1nlYgDCS1FRnbzlw"
    static let authSecret = "BTBZMqHH6r4Tts7J_aSIgg"
    static let body =
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"
        + "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
        + "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"

    @Test func rfc8291AppendixAVectorIsByteIdentical() throws {
        let sender = try P256.KeyAgreement.PrivateKey(rawRepresentation: Base64URL.decode(Self.asPrivate)!)
        #expect(Base64URL.encode(sender.publicKey.x963Representation) == Self.asPublic)
        let body = try WebPushEncryption.encrypt(
            plaintext: Data(Self.plaintext.utf8), userAgentPublicKey: Base64URL.decode(Self.uaPublic)!,
            authSecret: Base64URL.decode(Self.authSecret)!, senderPrivateKey: sender, salt: Base64URL.decode(Self.salt)!)
        #expect(body.count == 144)
        #expect(body == Base64URL.decode(Self.body)!)
        #expect(Base64URL.encode(body) == Self.body)
    }

    @Test func freshKeyAndSaltPerMessageAndDecryptsWithTheUserAgentKey() throws {
        let ua = P256.KeyAgreement.PrivateKey()
        let auth = Data((0..<16).map { UInt8($0) })
        let message = Data("hello phone".utf8)
        let a = try WebPushEncryption.encrypt(plaintext: message, userAgentPublicKey: ua.publicKey.x963Representation, authSecret: auth)
        let b = try WebPushEncryption.encrypt(plaintext: message, userAgentPublicKey: ua.publicKey.x963Representation, authSecret: auth)
        #expect(a.prefix(16) != b.prefix(16))  // salt
        #expect(a[21..<86] != b[21..<86])  // sender key
        #expect(try WebPushDecryption.decrypt(a, userAgent: ua, authSecret: auth) == message)
        #expect(try WebPushDecryption.decrypt(b, userAgent: ua, authSecret: auth) == message)
        // The Appendix A body decrypts with the RFC's user agent key too.
        let rfcUA = try P256.KeyAgreement.PrivateKey(rawRepresentation: Base64URL.decode(Self.uaPrivate)!)
        #expect(
            try WebPushDecryption.decrypt(Base64URL.decode(Self.body)!, userAgent: rfcUA, authSecret: Base64URL.decode(Self.authSecret)!)
                == Data(Self.plaintext.utf8))
    }

    @Test func sizeLimitIs3993Bytes() throws {
        let ua = P256.KeyAgreement.PrivateKey().publicKey.x963Representation
        let auth = Data(repeating: 7, count: 16)
        let biggest = try WebPushEncryption.encrypt(plaintext: Data(repeating: 0x61, count: 3993), userAgentPublicKey: ua, authSecret: auth)
        #expect(biggest.count == 4096)
        #expect(throws: WebPushEncryption.Failure.plaintextTooLarge(3994)) {
            try WebPushEncryption.encrypt(plaintext: Data(repeating: 0x61, count: 3994), userAgentPublicKey: ua, authSecret: auth)
        }
        #expect(throws: WebPushEncryption.Failure.invalidUserAgentKey) {
            try WebPushEncryption.encrypt(plaintext: Data(), userAgentPublicKey: Data(repeating: 4, count: 65), authSecret: auth)
        }
    }

    @Test func base64URLAcceptsBothAlphabetsAndPadding() {
        let bytes = Data([0xfb, 0xff, 0xfe, 0x00, 0x01])
        #expect(Base64URL.encode(bytes) == "-__-AAE")
        #expect(Base64URL.decode("-__-AAE") == bytes)
        #expect(Base64URL.decode("+//+AAE=") == bytes)
        #expect(Base64URL.decode("not base64!") == nil)
        #expect(Base64URL.decode("") == nil)
    }
}

struct VAPIDTests {
    @Test func jwtVerifiesWithThePublicKeyAndHasRFC8292Claims() throws {
        let key = P256.Signing.PrivateKey()
        let signer = VAPIDSigner(privateKey: key, contact: "mailto:ops@example.com")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let header = try signer.authorization(for: URL(string: "http://127.0.0.1:8099/push/abc")!, now: now)
        let match = try #require(header.wholeMatch(of: /vapid t=([^,]+), k=(.+)/))
        let token = String(match.1)
        #expect(String(match.2) == Base64URL.encode(key.publicKey.x963Representation))
        let parts = token.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        #expect(!token.contains("="))
        let headerJSON = try JSONSerialization.jsonObject(with: Base64URL.decode(parts[0])!) as! [String: String]
        #expect(headerJSON == ["typ": "JWT", "alg": "ES256"])
        let claims = try JSONSerialization.jsonObject(with: Base64URL.decode(parts[1])!) as! [String: Any]
        #expect(claims["aud"] as? String == "http://127.0.0.1:8099")
        #expect(claims["sub"] as? String == "mailto:ops@example.com")
        let exp = try #require(claims["exp"] as? Int)
        #expect(exp > Int(now.timeIntervalSince1970) && exp <= Int(now.timeIntervalSince1970) + 12 * 3600)
        let signature = try #require(Base64URL.decode(parts[2]))
        #expect(signature.count == 64)  // raw r || s, not DER
        let publicKey = try P256.Signing.PublicKey(x963Representation: Base64URL.decode(String(match.2))!)
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: Data((parts[0] + "." + parts[1]).utf8)))
        #expect(!publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: Data((parts[0] + "." + parts[0]).utf8)))
    }

    @Test func audienceIsTheOriginWithANonDefaultPort() {
        #expect(VAPIDSigner.audience(of: URL(string: "https://fcm.googleapis.com/fcm/send/abc")!) == "https://fcm.googleapis.com")
        #expect(VAPIDSigner.audience(of: URL(string: "https://web.push.apple.com:443/QGx")!) == "https://web.push.apple.com")
        #expect(VAPIDSigner.audience(of: URL(string: "https://Push.Example.net:8443/x")!) == "https://push.example.net:8443")
        #expect(VAPIDSigner.audience(of: URL(string: "http://127.0.0.1:9/push/a")!) == "http://127.0.0.1:9")
    }

    @Test func tokensAreCachedPerAudienceUntilNearExpiry() throws {
        let signer = VAPIDSigner(privateKey: P256.Signing.PrivateKey(), contact: "https://observatory.example.com")
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try signer.token(audience: "https://a.example", now: t0)
        #expect(try signer.token(audience: "https://a.example", now: t0.addingTimeInterval(3600)) == first)
        #expect(try signer.token(audience: "https://b.example", now: t0) != first)
        // Less than an hour left: renewed.
        #expect(try signer.token(audience: "https://a.example", now: t0.addingTimeInterval(11.5 * 3600)) != first)
    }

    @Test(arguments: [
        ("mailto:ops@example.com", true), ("mailto:alerts@my-company.io", true), ("https://observatory.example.com", true),
        ("https://example.org/contact", true),
        ("ops@example.com", false), ("https://localhost", false), ("https://localhost:8080/x", false),
        ("mailto:me@localhost", false), ("mailto:me@host.invalid", false), ("mailto:me@box.local", false),
        ("http://example.com", false), ("mailto:", false), ("mailto:@example.com", false), ("https://127.0.0.1", false),
        ("mailto:me@intranet", false),
    ])
    func contactsAppleRejectsAreRefused(contact: String, accepted: Bool) {
        #expect((VAPIDSigner.contactProblem(contact) == nil) == accepted, "\(contact): \(VAPIDSigner.contactProblem(contact) ?? "ok")")
    }

    @Test func keyFileIsMadeOnceWithMode0600AndReused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vapid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(VAPIDKeyFile.fileName).path
        let first = try VAPIDKeyFile.loadOrCreate(path: path)
        #expect(first.created)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let second = try VAPIDKeyFile.loadOrCreate(path: path)
        #expect(!second.created)
        #expect(second.key.rawRepresentation == first.key.rawRepresentation)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: VAPIDError.self) { try VAPIDKeyFile.loadOrCreate(path: path) }
    }
}

/// The receiving side of RFC 8291, for round-trip tests (what a browser does).
enum WebPushDecryption {
    struct Failure: Error {}

    static func decrypt(_ body: Data, userAgent: P256.KeyAgreement.PrivateKey, authSecret: Data) throws -> Data {
        let body = Data(body)
        guard body.count > 86 + 16, body[20] == 65 else { throw Failure() }
        let salt = body.prefix(16)
        let senderPublic = body.subdata(in: 21..<86)
        let sender = try P256.KeyAgreement.PublicKey(x963Representation: senderPublic)
        let shared = try userAgent.sharedSecretFromKeyAgreement(with: sender)
        var keyInfo = Data("WebPush: info".utf8)
        keyInfo.append(0)
        keyInfo.append(userAgent.publicKey.x963Representation)
        keyInfo.append(senderPublic)
        let ikm = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: authSecret, sharedInfo: keyInfo, outputByteCount: 32)
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: ikm, salt: salt)
        let cek = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: aes128gcm".utf8) + [0], outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: nonce".utf8) + [0], outputByteCount: 12)
        let sealed = body.subdata(in: 86..<body.count)
        let box = try AES.GCM.SealedBox(
            nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }), ciphertext: sealed.dropLast(16), tag: sealed.suffix(16))
        var plain = try AES.GCM.open(box, using: cek)
        while plain.last == 0 { plain.removeLast() }
        guard plain.last == 2 else { throw Failure() }
        return plain.dropLast()
    }
}
