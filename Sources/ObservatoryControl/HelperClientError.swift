/// Why a ``HelperClient`` call failed.
package enum HelperClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No helper listens at `path` (not running, or the socket cannot be reached).
    case unreachable(path: String, reason: String)
    /// No answer within the caller's timeout.
    case timeout
    /// The helper answered with an error (`not_found`, `timeout`, `bad_request`, `busy`,
    /// `forbidden`, `unavailable`).
    case refused(code: String, message: String)
    /// The helper answered something unreadable or unexpected.
    case protocolError(String)

    package var description: String {
        switch self {
        case .unreachable(let path, let reason): "helper not reachable at \(path): \(reason)"
        case .timeout: "the helper did not answer in time"
        case .refused(let code, let message): "\(code): \(message)"
        case .protocolError(let message): "protocol error: \(message)"
        }
    }
}
