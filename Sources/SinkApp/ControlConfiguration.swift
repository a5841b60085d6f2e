import Foundation
import ObservatoryControl

/// How the sink reaches and guards the control path (YAML `control.*`).
package struct ControlConfiguration: Sendable {
    /// Whether control calls from other machines (or through a proxy or tunnel) are allowed at all;
    /// they still need a control token. YAML `control.allow_remote`, env
    /// `OBSERVATORY_ALLOW_REMOTE_CONTROL`, flag `--allow-remote-control`; default off.
    package var allowRemote = false
    /// The helper's Unix socket. YAML `control.helper_socket`, env `OBSERVATORY_HELPER_SOCKET`;
    /// default `$XDG_RUNTIME_DIR/observatory/helper.sock` (else `/tmp/observatory-<uid>/helper.sock`).
    package var helperSocket: String
    /// SIGTERM → SIGKILL grace period when a call does not give one. YAML `control.grace`, default 5s.
    package var grace: Duration = .seconds(5)

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        helperSocket = ControlPaths.helperSocket(environment: environment)
    }
}
