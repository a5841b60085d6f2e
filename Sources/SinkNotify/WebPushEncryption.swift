import Crypto
import Foundation

/// RFC 8291 message encryption on RFC 8188 `aes128gcm`: one record, `rs` = 4096, a fresh sender
/// key pair and salt per message.
package enum WebPushEncryption {
    /// Largest plaintext that keeps the body within the 4096 bytes every push service must accept
    /// (RFC 8030 §7.2): 4096 − 86 (header) − 1 (delimiter) − 16 (tag).
    package static let maxPlaintextBytes = 3993
    /// Record size written in the header.
    package static let recordSize: UInt32 = 4096

    package enum Failure: Error, Equatable, CustomStringConvertible {
        case plaintextTooLarge(Int)
        case invalidAuthSecret(Int)
        case invalidSalt(Int)
        case invalidUserAgentKey

        package var description: String {
            switch self {
            case .plaintextTooLarge(let count): "plaintext of \(count) bytes is over \(WebPushEncryption.maxPlaintextBytes)"
            case .invalidAuthSecret(let count): "auth secret must be 16 bytes, not \(count)"
            case .invalidSalt(let count): "salt must be 16 bytes, not \(count)"
            case .invalidUserAgentKey: "p256dh is not an uncompressed P-256 point"
            }
        }
    }

    /// Encrypts with a fresh ephemeral key and salt.
    package static func encrypt(plaintext: Data, userAgentPublicKey: Data, authSecret: Data) throws -> Data {
        var salt = Data(count: 16)
        salt.withUnsafeMutableBytes { buffer in
            var generator = SystemRandomNumberGenerator()
            for index in buffer.indices { buffer[index] = UInt8.random(in: .min ... .max, using: &generator) }
        }
        return try encrypt(
            plaintext: plaintext, userAgentPublicKey: userAgentPublicKey, authSecret: authSecret,
            senderPrivateKey: P256.KeyAgreement.PrivateKey(), salt: salt)
    }

    /// Encrypts with the given sender key and salt (deterministic: for the RFC 8291 Appendix A test).
    package static func encrypt(
        plaintext: Data, userAgentPublicKey: Data, authSecret: Data,
        senderPrivateKey: P256.KeyAgreement.PrivateKey, salt: Data
    ) throws -> Data {
        guard plaintext.count <= maxPlaintextBytes else { throw Failure.plaintextTooLarge(plaintext.count) }
        guard authSecret.count == 16 else { throw Failure.invalidAuthSecret(authSecret.count) }
        guard salt.count == 16 else { throw Failure.invalidSalt(salt.count) }
        let userAgentKey: P256.KeyAgreement.PublicKey
        do {
            guard userAgentPublicKey.count == 65, userAgentPublicKey.first == 0x04 else { throw Failure.invalidUserAgentKey }
            userAgentKey = try P256.KeyAgreement.PublicKey(x963Representation: userAgentPublicKey)
        } catch {
            throw Failure.invalidUserAgentKey
        }
        let senderPublic = senderPrivateKey.publicKey.x963Representation
        let shared = try senderPrivateKey.sharedSecretFromKeyAgreement(with: userAgentKey)
        // IKM = HKDF(salt: auth_secret, ikm: ecdh_secret, info: "WebPush: info\0" || ua_public || as_public, 32)
        var keyInfo = Data("WebPush: info".utf8)
        keyInfo.append(0)
        keyInfo.append(userAgentPublicKey)
        keyInfo.append(senderPublic)
        let ikm = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: authSecret, sharedInfo: keyInfo, outputByteCount: 32)
        // PRK = HKDF-Extract(salt, IKM); CEK / NONCE = HKDF-Expand(PRK, info, 16 / 12)
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: ikm, salt: salt)
        let cek = HKDF<SHA256>.expand(
            pseudoRandomKey: prk, info: Data("Content-Encoding: aes128gcm".utf8) + [0], outputByteCount: 16)
        let nonceBytes = HKDF<SHA256>.expand(
            pseudoRandomKey: prk, info: Data("Content-Encoding: nonce".utf8) + [0], outputByteCount: 12)
        let nonce = try AES.GCM.Nonce(data: nonceBytes.withUnsafeBytes { Data($0) })
        var record = plaintext
        record.append(0x02)  // delimiter of the last (only) record, no padding
        let box = try AES.GCM.seal(record, using: cek, nonce: nonce)
        var body = Data(capacity: 86 + record.count + 16)
        body.append(salt)
        withUnsafeBytes(of: recordSize.bigEndian) { body.append(contentsOf: $0) }
        body.append(UInt8(senderPublic.count))
        body.append(senderPublic)
        body.append(box.ciphertext)
        body.append(box.tag)
        return body
    }
}
