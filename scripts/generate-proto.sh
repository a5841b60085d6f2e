#!/usr/bin/env bash
# Regenerates Sources/SinkOTLP/Generated from the .proto subset in Sources/SinkOTLP/Proto.
# Needs protoc (Debian: protobuf-compiler). protoc-gen-swift is built from the swift-protobuf
# version this package depends on, unless PROTOC_GEN_SWIFT names one already built.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-}"
if [ -z "$plugin" ]; then
  swift build -c release --product protoc-gen-swift >&2
  plugin="$(swift build -c release --show-bin-path)/protoc-gen-swift"
fi
proto_dir=Sources/SinkOTLP/Proto
out_dir=Sources/SinkOTLP/Generated
rm -rf "$out_dir" && mkdir -p "$out_dir"
# google/protobuf/any.proto comes with protoc's own include directory.
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Package --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out_dir" -I "$proto_dir" \
  $(cd "$proto_dir" && find . -name '*.proto' | sed 's|^\./||' | sort)
echo "generated: $(ls "$out_dir" | wc -l) files in $out_dir"
