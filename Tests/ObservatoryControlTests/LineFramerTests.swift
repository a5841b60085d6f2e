import ObservatoryControl
import Testing

@Suite struct LineFramerTests {
    @Test func splitsAcrossFeeds() throws {
        var framer = LineFramer(maxLineBytes: 16)
        #expect(try framer.feed(Array("ab".utf8)).isEmpty)
        #expect(try framer.feed(Array("c\r\nde\nf".utf8)) == [Array("abc".utf8), Array("de".utf8)])
        #expect(framer.bufferedCount == 1)
        #expect(try framer.feed([0x0A]) == [Array("f".utf8)])
    }

    @Test func lineAtTheLimitPassesOneMoreByteFails() throws {
        var framer = LineFramer(maxLineBytes: 4)
        #expect(try framer.feed(Array("abcd\n".utf8)) == [Array("abcd".utf8)])
        #expect(throws: LineFramer.Overflow.self) { try framer.feed(Array("abcde".utf8)) }
    }

    @Test func defaultLimitIs64KiB() throws {
        var framer = LineFramer()
        let big = [UInt8](repeating: 0x61, count: 64 * 1024)
        #expect(try framer.feed(big + [0x0A]).first?.count == 64 * 1024)
        #expect(throws: LineFramer.Overflow.self) { try framer.feed(big + [0x61]) }
    }
}
