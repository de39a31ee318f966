// TCP header and options on the wire (RFC 9293 3.1-3.2, RFC 7323, RFC 2018), sequence numbers.
#include <gtest/gtest.h>

#include <vector>

#include "proto/bytes.h"
#include "proto/tcp/seq.h"
#include "proto/tcp/wire.h"

namespace tuntcp::proto::tcp {
namespace {

constexpr uint32_t kSrc = 0x0a000001, kDst = 0x0a000002;

TcpRepr full_repr() {
  TcpRepr r;
  r.src_port = 443;
  r.dst_port = 51000;
  r.seq = Seq(0xdeadbeef);
  r.ack = Seq(0x01020304);
  r.flags = Flags::SYN | Flags::ACK | Flags::ECE;
  r.window = 29200;
  r.urgent = 7;
  r.opt.mss = 1460;
  r.opt.wscale = 7;
  r.opt.sack_permitted = true;
  r.opt.ts = Timestamps{123456, 654321};
  return r;
}

std::vector<uint8_t> build(const TcpRepr& r, std::vector<uint8_t> payload = {}) {
  std::vector<uint8_t> buf(kHeaderMax + payload.size());
  size_t hl = emit_header(r, std::span<uint8_t>(buf.data(), kHeaderMax), kSrc, kDst, payload);
  EXPECT_GT(hl, 0u);
  buf.resize(hl);
  buf.insert(buf.end(), payload.begin(), payload.end());
  return buf;
}

TEST(TcpSeq, ComparisonsWrapAround) {
  EXPECT_TRUE(Seq(0xfffffff0) < Seq(0x10));
  EXPECT_TRUE(Seq(0x10) > Seq(0xfffffff0));
  EXPECT_EQ(Seq(0x10) - Seq(0xfffffff0), 0x20);
  EXPECT_EQ((Seq(0xffffffff) + 2).raw(), 1u);
  EXPECT_TRUE(seq_in(Seq(0xfffffff0), Seq(0), Seq(0x10)));
  EXPECT_FALSE(seq_in(Seq(0xfffffff0), Seq(0x10), Seq(0x10)));
  EXPECT_EQ(seq_max(Seq(0xfffffff0), Seq(5)).raw(), 5u);
  EXPECT_EQ(seq_min(Seq(0xfffffff0), Seq(5)).raw(), 0xfffffff0u);
  EXPECT_EQ(Seq(3).since(Seq(0xffffffff)), 4u);
}

TEST(TcpWire, SynOptionsRoundTrip) {
  TcpRepr r = full_repr();
  auto b = build(r);
  EXPECT_EQ(b.size(), 20u + 4 + 12 + 4);  // MSS, SACKP+TS, NOP+WS
  TcpRepr back;
  std::span<const uint8_t> pl;
  ASSERT_EQ(parse(b, back, &pl), ParseError::kOk);
  EXPECT_EQ(back, r);
  EXPECT_TRUE(pl.empty());
  EXPECT_TRUE(verify_checksum(b, kSrc, kDst));
}

TEST(TcpWire, LinuxSynOptionLayout) {
  auto b = build(full_repr());
  const uint8_t expect[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
  EXPECT_TRUE(std::equal(std::begin(expect), std::end(expect), b.begin() + 20));
  EXPECT_EQ(b[36], 1);  // NOP
  EXPECT_EQ(b[37], 3);  // window scale
  EXPECT_EQ(b[39], 7);
}

TEST(TcpWire, EveryOptionCombinationRoundTrips) {
  for (int mask = 0; mask < 32; ++mask) {
    TcpRepr r;
    r.seq = Seq(1);
    r.flags = Flags::ACK;
    if (mask & 1) r.opt.mss = 536;
    if (mask & 2) r.opt.wscale = 14;
    if (mask & 4) r.opt.sack_permitted = true;
    if (mask & 8) r.opt.ts = Timestamps{1, 2};
    if ((mask & 16) && !(mask & 1) && !(mask & 2) && !(mask & 4)) {
      r.opt.sack_count = (mask & 8) ? 3 : 4;
      for (int i = 0; i < r.opt.sack_count; ++i)
        r.opt.sack[i] = SackBlock{Seq(100 * i), Seq(100 * i + 50)};
    }
    auto b = build(r);
    EXPECT_EQ(b.size(), header_len(r));
    EXPECT_EQ(b.size() % 4, 0u);
    TcpRepr back;
    ASSERT_EQ(parse(b, back, nullptr), ParseError::kOk) << mask;
    EXPECT_EQ(back, r) << mask;
  }
}

TEST(TcpWire, PayloadChecksumOverTwoSpansWithOddSplit) {
  TcpRepr r;
  r.flags = Flags::ACK | Flags::PSH;
  std::vector<uint8_t> a = {1, 2, 3}, bb = {4, 5, 6, 7, 8};
  std::vector<uint8_t> buf(kHeaderMax);
  size_t hl = emit_header(r, buf, kSrc, kDst, a, bb);
  buf.resize(hl);
  buf.insert(buf.end(), a.begin(), a.end());
  buf.insert(buf.end(), bb.begin(), bb.end());
  EXPECT_TRUE(verify_checksum(buf, kSrc, kDst));
  buf.back() ^= 1;
  EXPECT_FALSE(verify_checksum(buf, kSrc, kDst));
}

TEST(TcpWire, ChecksumCoversPseudoHeader) {
  auto b = build(full_repr(), {9, 9, 9});
  EXPECT_TRUE(verify_checksum(b, kSrc, kDst));
  EXPECT_FALSE(verify_checksum(b, kSrc + 1, kDst));
}

TEST(TcpWire, PayloadFollowsOptions) {
  auto b = build(full_repr(), {'h', 'i'});
  TcpRepr back;
  std::span<const uint8_t> pl;
  ASSERT_EQ(parse(b, back, &pl), ParseError::kOk);
  ASSERT_EQ(pl.size(), 2u);
  EXPECT_EQ(pl[0], 'h');
}

TEST(TcpWire, ViewAccessorsReadFields) {
  auto b = build(full_repr(), {1});
  auto v = TcpView::make(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->src_port(), 443);
  EXPECT_EQ(v->dst_port(), 51000);
  EXPECT_EQ(v->seq(), 0xdeadbeefu);
  EXPECT_EQ(v->ack(), 0x01020304u);
  EXPECT_EQ(v->header_len(), 40u);
  EXPECT_EQ(v->window(), 29200);
  EXPECT_EQ(v->urgent(), 7);
  EXPECT_EQ(v->options().size(), 20u);
  EXPECT_EQ(v->payload().size(), 1u);
}

TEST(TcpWire, TruncatedHeaderRejected) {
  std::vector<uint8_t> b(19);
  TcpRepr r;
  EXPECT_EQ(parse(b, r, nullptr), ParseError::kTruncated);
  EXPECT_FALSE(TcpView::make(b));
}

TEST(TcpWire, BadDataOffsetRejected) {
  auto b = build(TcpRepr{});
  b[12] = 4 << 4;  // 16 bytes < 20
  TcpRepr r;
  EXPECT_EQ(parse(b, r, nullptr), ParseError::kBadDataOffset);
  b[12] = 6 << 4;  // 24 bytes > segment
  EXPECT_EQ(parse(b, r, nullptr), ParseError::kBadDataOffset);
}

std::vector<uint8_t> with_options(std::vector<uint8_t> opts) {
  while (opts.size() % 4) opts.push_back(0);
  // Sized once and copied into (GCC 12 at -O3 warns, falsely, -Warray-bounds, on an insert).
  std::vector<uint8_t> b(20 + opts.size(), 0);
  b[12] = static_cast<uint8_t>((20 + opts.size()) / 4 << 4);
  std::copy(opts.begin(), opts.end(), b.begin() + 20);
  return b;
}

TEST(TcpWire, UnknownOptionsAreSkipped) {
  auto b = with_options({254, 4, 0xaa, 0xbb, 2, 4, 0x02, 0x18});
  TcpRepr r;
  ASSERT_EQ(parse(b, r, nullptr), ParseError::kOk);
  EXPECT_EQ(r.opt.mss, std::optional<uint16_t>(536));
}

TEST(TcpWire, EndOfOptionListStopsParsing) {
  auto b = with_options({0, 2, 4, 0x02, 0x18});
  TcpRepr r;
  ASSERT_EQ(parse(b, r, nullptr), ParseError::kOk);
  EXPECT_FALSE(r.opt.mss);
}

TEST(TcpWire, MalformedOptionsRejected) {
  TcpRepr r;
  EXPECT_EQ(parse(with_options({2, 1}), r, nullptr), ParseError::kBadOption);          // len < 2
  EXPECT_EQ(parse(with_options({1, 1, 1, 8, 10, 0, 0, 0}), r, nullptr), ParseError::kBadOption);  // overrun
  EXPECT_EQ(parse(with_options({2, 3, 5}), r, nullptr), ParseError::kBadOption);       // MSS len 3
  EXPECT_EQ(parse(with_options({3, 4, 7, 0}), r, nullptr), ParseError::kBadOption);    // WS len 4
  EXPECT_EQ(parse(with_options({5, 6, 0, 0, 0, 0}), r, nullptr), ParseError::kBadOption);  // SACK
  EXPECT_EQ(parse(with_options({4, 3, 0}), r, nullptr), ParseError::kBadOption);       // SACKP
  EXPECT_EQ(parse(with_options({1, 1, 1, 254}), r, nullptr), ParseError::kBadOption);  // no length
}

TEST(TcpWire, SackBlocksParsed) {
  auto b = with_options({1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4});
  TcpRepr r;
  ASSERT_EQ(parse(b, r, nullptr), ParseError::kOk);
  ASSERT_EQ(r.opt.sack_count, 2);
  EXPECT_EQ(r.opt.sack[1], (SackBlock{Seq(3), Seq(4)}));
}

TEST(TcpWire, EmitRefusesTooSmallBufferAndTooManyOptions) {
  TcpRepr r = full_repr();
  uint8_t small[30];
  EXPECT_EQ(emit_header(r, small, kSrc, kDst), 0u);
  r.opt.sack_count = 3;  // 40 + 4 + 24 bytes of options: too many
  uint8_t buf[kHeaderMax];
  EXPECT_EQ(emit_header(r, buf, kSrc, kDst), 0u);
}

TEST(TcpWire, ParserSurvivesEveryOptionByteValue) {
  for (int x = 0; x < 256; ++x) {
    for (int len = 0; len < 12; ++len) {
      auto b = with_options({static_cast<uint8_t>(x), static_cast<uint8_t>(len), 1, 2, 3, 4, 5, 6});
      TcpRepr r;
      (void)parse(b, r, nullptr);
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace tuntcp::proto::tcp
