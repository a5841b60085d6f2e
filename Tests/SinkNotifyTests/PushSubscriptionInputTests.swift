import Crypto
import Foundation
import SinkNotify
import Testing

struct PushSubscriptionInputTests {
    static let p256dh = Base64URL.encode(P256.KeyAgreement.PrivateKey().publicKey.x963Representation)
    static let auth = Base64URL.encode(Data(repeating: 9, count: 16))

    func validate(_ json: String, insecure: Bool = false, contact: String? = "mailto:ops@example.com") -> String? {
        var configuration = PushConfiguration()
        configuration.allowInsecureLocalhost = insecure
        configuration.contact = contact
        guard let input = try? JSONDecoder().decode(PushSubscriptionInput.self, from: Data(json.utf8)) else { return "undecodable" }
        switch input.validated(configuration: configuration, now: Date()) {
        case .success: return nil
        case .failure(let problem): return problem.description
        }
    }

    func body(endpoint: String = "https://fcm.googleapis.com/fcm/send/abc", p256dh: String = p256dh, auth: String = auth) -> String {
        #"{"endpoint": "\#(endpoint)", "expirationTime": null, "keys": {"p256dh": "\#(p256dh)", "auth": "\#(auth)"}}"#
    }

    @Test func acceptsBrowserSubscriptions() {
        #expect(validate(body()) == nil)
        #expect(validate(body(endpoint: "https://web.push.apple.com/QGx9"))  == nil)
        // standard base64 with padding (btoa) is accepted too
        let standard = Data(Base64URL.decode(Self.p256dh)!).base64EncodedString()
        #expect(validate(body(p256dh: standard)) == nil)
        #expect(validate(body(endpoint: "http://127.0.0.1:8123/push/x"), insecure: true) == nil)
    }

    @Test func refusesBadInputWithAReason() throws {
        #expect(validate(body(endpoint: "http://push.example.com/x"))?.contains("https") == true)
        #expect(validate(body(endpoint: "http://127.0.0.1:8123/push/x"))?.contains("https") == true)
        #expect(validate(body(endpoint: "https://127.0.0.1/push/x"))?.contains("loopback") == true)
        #expect(validate(body(endpoint: "https://192.168.1.2/push/x"))?.contains("loopback or private") == true)
        #expect(validate(body(endpoint: "http://10.0.0.1/push/x"), insecure: true)?.contains("https") == true)
        #expect(validate(body(endpoint: "ftp://x/y"))?.contains("https") == true)
        #expect(validate(body(endpoint: "not a url"))?.contains("https") == true)
        #expect(validate(body(endpoint: "https://u:p@push.example.com/x"))?.contains("password") == true)
        #expect(validate(body(p256dh: "AAAA"))?.contains("65-byte") == true)
        let offCurve = Base64URL.encode(Data([4] + [UInt8](repeating: 1, count: 64)))
        #expect(validate(body(p256dh: offCurve))?.contains("P-256") == true)
        #expect(validate(body(p256dh: "***"))?.contains("base64url") == true)
        #expect(validate(body(auth: Base64URL.encode(Data(repeating: 1, count: 8))))?.contains("16 bytes") == true)
        #expect(validate(#"{"keys": {}}"#)?.contains("endpoint") == true)
        #expect(validate(#"{"endpoint": "https://fcm.googleapis.com/x"}"#)?.contains("keys") == true)
        #expect(validate(body(endpoint: "https://web.push.apple.com/QGx9"), contact: nil)?.contains("push.contact") == true)
        let expired = #"{"endpoint": "https://fcm.googleapis.com/x", "expirationTime": 1000, "keys": {"p256dh": "\#(Self.p256dh)", "auth": "\#(Self.auth)"}}"#
        #expect(validate(expired)?.contains("expired") == true)
    }

    @Test func idIsStablePerEndpoint() {
        #expect(PushSubscriptionInput.id(endpoint: "https://a/x") == PushSubscriptionInput.id(endpoint: "https://a/x"))
        #expect(PushSubscriptionInput.id(endpoint: "https://a/x") != PushSubscriptionInput.id(endpoint: "https://a/y"))
        #expect(PushSubscriptionInput.id(endpoint: "https://a/x").count == 16)
    }
}
