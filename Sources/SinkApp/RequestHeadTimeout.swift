import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Closes a connection whose first request head (request line and headers, up to the empty line)
/// has not fully arrived within `timeout` of connecting: a slowloris client trickling header bytes,
/// or one that connects and sends nothing, holds a connection for at most `timeout`.
///
/// Hummingbird's idle timeout covers this on a plain HTTP/1 server, but its WebSocket-upgrade
/// server adds the idle-timeout handler only once the first request head has been parsed (the
/// upgrade is decided on it), so the API port needs this in front of the HTTP decoder. After the
/// first head the handler removes itself: later requests on the connection are covered by the idle
/// timeout, a WebSocket by its pings.
final class RequestHeadTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    private var scanner = RequestHeadScanner()

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleDeadline(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        scheduleDeadline(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let complete = scanner.scan(unwrapInboundIn(data).readableBytesView)
        context.fireChannelRead(data)
        if complete {
            deadline?.cancel()
            deadline = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    private func scheduleDeadline(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let logger = logger
        let timeout = timeout
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            let context = loopBound.value
            logger.debug(
                "closing a connection whose request head did not arrive in time",
                metadata: ["peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")", "timeout": "\(timeout)"])
            context.close(promise: nil)
        }
    }
}

/// Finds the end of an HTTP/1 request head in a byte stream: the first empty line (`CRLF CRLF`, or
/// bare `LF LF`, which HTTP parsers accept too) after the request line. Empty lines before the
/// request line do not count (RFC 9112 §2.2 lets a server ignore them).
struct RequestHeadScanner {
    private var started = false
    private var atLineStart = false
    private(set) var complete = false

    /// Feeds bytes; returns whether the head is complete.
    mutating func scan(_ bytes: some Sequence<UInt8>) -> Bool {
        guard !complete else { return true }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\n"):
                guard started else { continue }
                if atLineStart {
                    complete = true
                    return true
                }
                atLineStart = true
            default:
                started = true
                atLineStart = false
            }
        }
        return false
    }
}

/// A server child channel with a ``RequestHeadTimeoutHandler`` in front of `base`'s pipeline.
struct RequestHeadTimeoutChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let timeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(RequestHeadTimeoutHandler(timeout: timeout, logger: logger), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// The API port's server: HTTP/1 with the WebSocket upgrade, connections closed after
    /// `idleTimeout` without traffic, the first request head due within `idleTimeout` of connecting
    /// (``RequestHeadTimeoutHandler``), and WebSocket pings every `pingInterval`.
    static func http1WebSocketUpgrade(
        webSocketResponder: some HTTPResponder<some WebSocketRequestContext>, idleTimeout: Duration, pingInterval: Duration
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            RequestHeadTimeoutChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: .init(
                        http1: .init(idleTimeout: TimeAmount(idleTimeout)),
                        ws: .init(autoPing: .enabled(timePeriod: pingInterval)))),
                timeout: TimeAmount(idleTimeout))
        }
    }
}
