// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every target: Swift 6 language mode with strict concurrency, and the
/// upcoming features the Hummingbird and swift-otel code bases use.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "agent-observatory",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "observatory-sink", targets: ["ObservatorySink"]),
        .executable(name: "observatory", targets: ["ObservatoryCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Vocabulary shared by every stage: session events, session state, the ports between stages.
        .target(
            name: "SinkCore",
            dependencies: [],
            swiftSettings: swiftSettings
        ),
        // OTLP protobuf types (generated, checked in) and the OTLP/JSON mapping.
        .target(
            name: "SinkOTLP",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto"],
            swiftSettings: swiftSettings
        ),
        // OTLP records from each agent vendor → SessionEvent.
        .target(
            name: "SinkNormalize",
            dependencies: ["SinkCore", "SinkOTLP"],
            swiftSettings: swiftSettings
        ),
        // Live per-session state and the group-commit pipeline in front of the store.
        .target(
            name: "SinkSessions",
            dependencies: [
                "SinkCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Alert rules: the rule-file format and its validator, the expression language, the alert
        // state machine and the rule engine. No HTTP, so `rules check` works offline.
        .target(
            name: "SinkRules",
            dependencies: [
                "SinkCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // Web Push (RFC 8030/8291/8292): VAPID, aes128gcm encryption, the persistent outbox's
        // delivery service (an AlertConsumer) and the /api/push routes.
        .target(
            name: "SinkNotify",
            dependencies: [
                "SinkCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // SQLite persistence (GRDB).
        .target(
            name: "SinkStore",
            dependencies: [
                "SinkCore", "CSQLiteTuning", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one SQLite setting Swift cannot reach (`sqlite3_config` is variadic).
        .target(
            name: "CSQLiteTuning",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        // The OTLP/HTTP receiver.
        .target(
            name: "SinkIngest",
            dependencies: [
                "SinkCore", "SinkOTLP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Tokens (control and device; `tokens.json`, hashed) and the audit log, shared by the sink
        // and the `observatory token` command. No Foundation (the `observatory` binary starts fast).
        .target(
            name: "ObservatoryAuth",
            dependencies: ["ObservatoryControl"],
            swiftSettings: swiftSettings
        ),
        // REST API, live feed, access rules (tokens, Host, Origin), control and auth routes.
        .target(
            name: "SinkAPI",
            dependencies: [
                "SinkCore", "SinkRules", "ObservatoryAuth",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Composition root: configuration, wiring, services.
        .target(
            name: "SinkApp",
            dependencies: [
                "SinkCore", "SinkOTLP", "SinkNormalize", "SinkSessions", "SinkStore", "SinkIngest", "SinkAPI",
                "SinkNotify", "SinkRules", "ObservatoryAuth", "ObservatoryControl",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ObservatorySink",
            dependencies: [
                "SinkApp", "SinkNotify", "SinkRules", "ObservatoryAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The rule engine benchmark (`bench/rules.sh`): evaluation cost per event and timer lateness.
        .executableTarget(
            name: "RulesBench",
            dependencies: ["SinkCore", "SinkRules", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Test support: OTLP builders, a manual clock, recorders.
        .target(
            name: "SinkTesting",
            dependencies: ["SinkCore", "SinkOTLP", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SinkTests",
            dependencies: [
                "SinkCore", "SinkOTLP", "SinkNormalize", "SinkSessions", "SinkStore", "SinkIngest", "SinkAPI",
                "SinkApp", "SinkTesting", "ObservatoryAuth", "CSQLiteTuning",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SinkRulesTests",
            dependencies: ["SinkCore", "SinkRules", "SinkTesting"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SinkNotifyTests",
            dependencies: [
                "SinkCore", "SinkNotify", "SinkStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // The operator CLI's logic: the hook bridge (`observatory hook`), agent setup, doctor.
        // No Hummingbird/NIO/GRDB/Foundation networking: `observatory hook` runs on every agent hook
        // and must start fast.
        .target(
            name: "ObservatoryTools",
            dependencies: ["ObservatoryControl"],
            swiftSettings: swiftSettings
        ),
        // The control path's protocol: the helper socket's JSON-lines messages, Unix socket
        // plumbing and the blocking `HelperClient` (used by the CLI and by the sink). C library only.
        .target(
            name: "ObservatoryControl",
            dependencies: [],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ObservatoryControlTests",
            dependencies: ["ObservatoryControl", "ObservatoryTools"],
            swiftSettings: swiftSettings
        ),
        // The `observatory` executable (argument parsing only).
        .executableTarget(
            name: "ObservatoryCLI",
            dependencies: [
                "ObservatoryTools", "ObservatoryAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ObservatoryAuthTests",
            dependencies: ["ObservatoryAuth", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ObservatoryToolsTests",
            dependencies: ["ObservatoryTools", "ObservatoryControl"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
    ]
)

// libFuzzer targets for the decoders and parsers (scripts/fuzz.sh). Declared only when
// OBSERVATORY_FUZZ is set, so ordinary builds and tests never compile them:
//   OBSERVATORY_FUZZ=1 swift build -c release --scratch-path .build-fuzz --product observatory-fuzz \
//     -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
if Context.environment["OBSERVATORY_FUZZ"] != nil {
    package.products.append(.executable(name: "observatory-fuzz", targets: ["ObservatoryFuzz"]))
    package.targets.append(
        .executableTarget(
            name: "ObservatoryFuzz",
            dependencies: ["SinkCore", "SinkOTLP", "SinkNormalize", "SinkRules", "ObservatoryControl"],
            swiftSettings: swiftSettings
        ))
}
