import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SinkNotify
import Testing

struct PushRoutesTests {
    func withAPI(_ body: @escaping @Sendable (any TestClientProtocol, NotifierHarness) async throws -> Void) async throws {
        let harness = try NotifierHarness { $0.allowInsecureLocalhost = false }
        let routes = PushRoutes(store: harness.store, notifier: harness.notifier, signer: harness.signer, configuration: harness.configuration)
        let router = Router()
        routes.addRoutes(to: router)
        let app = Application(router: router)
        try await app.test(.router) { client in try await body(client, harness) }
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
    }

    static func subscriptionBody(endpoint: String = "https://fcm.googleapis.com/fcm/send/abc", label: String? = "Pixel") -> ByteBuffer {
        let key = Base64URL.encode(P256.KeyAgreement.PrivateKey().publicKey.x963Representation)
        let label = label.map { ", \"label\": \"\($0)\"" } ?? ""
        return ByteBuffer(
            string: #"{"endpoint": "\#(endpoint)", "expirationTime": null, "keys": {"p256dh": "\#(key)", "auth": "AAECAwQFBgcICQoLDA0ODw"}\#(label)}"#)
    }

    @Test func vapidPublicKeyIsTheSignersKey() async throws {
        try await withAPI { client, harness in
            try await client.execute(uri: "/api/push/vapid-public-key", method: .get) { response in
                #expect(response.status == .ok)
                try #expect(Self.json(response)["publicKey"] as? String == harness.signer.publicKeyBase64URL)
                #expect(Base64URL.decode(harness.signer.publicKeyBase64URL)?.count == 65)
            }
        }
    }

    @Test func subscribeListResubscribeDelete() async throws {
        try await withAPI { client, _ in
            var id = ""
            try await client.execute(uri: "/api/push/subscriptions", method: .post, body: Self.subscriptionBody()) { response in
                #expect(response.status == .created)
                let body = try Self.json(response)
                id = body["id"] as? String ?? ""
                #expect(body["label"] as? String == "Pixel")
                #expect(body["pushService"] as? String == "https://fcm.googleapis.com")
                #expect(body["lastSuccessAt"] is NSNull)
                #expect(body["keys"] == nil)
            }
            try await client.execute(uri: "/api/push/subscriptions", method: .post, body: Self.subscriptionBody(label: nil)) { response in
                #expect(response.status == .ok)
                try #expect(Self.json(response)["label"] as? String == "Pixel")  // kept
            }
            try await client.execute(uri: "/api/push/subscriptions", method: .get) { response in
                let list = try Self.json(response)["subscriptions"] as? [[String: Any]]
                #expect(list?.count == 1 && list?.first?["id"] as? String == id)
            }
            try await client.execute(uri: "/api/push/test", method: .post, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .accepted)
                try #expect(Self.json(response)["queued"] as? Int == 1)
            }
            try await client.execute(uri: "/api/push/subscriptions/\(id)", method: .delete) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/api/push/subscriptions/\(id)", method: .delete) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/api/push/test", method: .post) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func deleteByEndpoint() async throws {
        try await withAPI { client, _ in
            try await client.execute(uri: "/api/push/subscriptions", method: .post, body: Self.subscriptionBody()) { response in
                #expect(response.status == .created)
            }
            try await client.execute(
                uri: "/api/push/subscriptions", method: .delete, body: ByteBuffer(string: #"{"endpoint": "https://fcm.googleapis.com/fcm/send/abc"}"#)
            ) { response in
                #expect(response.status == .noContent)
            }
        }
    }

    @Test func subscriptionsAreCapped() async throws {
        try await withAPI { client, _ in
            for index in 0..<PushRoutes.maxSubscriptions {
                try await client.execute(
                    uri: "/api/push/subscriptions", method: .post, body: Self.subscriptionBody(endpoint: "https://fcm.googleapis.com/fcm/send/\(index)")
                ) { response in #expect(response.status == .created) }
            }
            try await client.execute(
                uri: "/api/push/subscriptions", method: .post, body: Self.subscriptionBody(endpoint: "https://fcm.googleapis.com/fcm/send/one-more")
            ) { response in #expect(response.status == .conflict) }
            // An existing device re-posting its subscription is fine.
            try await client.execute(
                uri: "/api/push/subscriptions", method: .post, body: Self.subscriptionBody(endpoint: "https://fcm.googleapis.com/fcm/send/7")
            ) { response in #expect(response.status == .ok) }
        }
    }

    @Test func badRequestsGetClearErrors() async throws {
        try await withAPI { client, _ in
            for (body, words) in [
                (Self.subscriptionBody(endpoint: "http://127.0.0.1:9/push/x"), "https"),
                (Self.subscriptionBody(endpoint: "https://localhost/push/x"), "loopback"),
                (ByteBuffer(string: "nope"), "JSON"),
                (ByteBuffer(string: #"{"endpoint": 1}"#), "wrong type"),
                (ByteBuffer(string: #"{"endpoint": "https://fcm.googleapis.com/x", "keys": {"p256dh": "AAAA", "auth": "AAECAwQFBgcICQoLDA0ODw"}}"#), "65-byte"),
            ] {
                try await client.execute(uri: "/api/push/subscriptions", method: .post, body: body) { response in
                    #expect(response.status == .badRequest)
                    let error = try Self.json(response)["error"] as? String ?? ""
                    #expect(error.contains(words), "\(error)")
                }
            }
            try await client.execute(
                uri: "/api/push/subscriptions", method: .post, body: ByteBuffer(repeating: UInt8(ascii: " "), count: 20_000)
            ) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }
}
