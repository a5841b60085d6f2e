import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The API server's request context: Hummingbird's WebSocket-capable context plus the peer's
/// address and who ``AccessMiddleware`` found the caller to be.
package struct ObservatoryRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let webSocket: WebSocketHandlerReference<Self>
    /// The TCP peer; `nil` only for in-process test channels.
    package let remoteAddress: SocketAddress?
    /// Set by ``AccessMiddleware`` before any route runs.
    package var access: RequestAccess?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
    }
}
