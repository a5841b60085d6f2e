import Foundation

/// base64url (RFC 4648 §5) without padding, as Web Push and JWTs use it.
package enum Base64URL {
    package static func encode<D: DataProtocol>(_ data: D) -> String {
        var text = Data(data).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Decodes base64url or standard base64, with or without `=` padding (browsers' `toJSON()` sends
    /// base64url; MDN's examples use `btoa`, i.e. standard base64). `nil` for anything else.
    package static func decode(_ text: String) -> Data? {
        var body = text.trimmingCharacters(in: .whitespaces)
        while body.hasSuffix("=") { body.removeLast() }
        guard !body.isEmpty,
            body.utf8.allSatisfy({ byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2B || byte == 0x2F
            })
        else { return nil }
        body = body.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        if body.count % 4 == 1 { return nil }
        while body.count % 4 != 0 { body += "=" }
        return Data(base64Encoded: body)
    }
}
