#include <gtest/gtest.h>

#include "core/country_code.h"
#include "core/ip_proto.h"
#include "core/tcp_flags.h"

namespace flowscope {
namespace {

TEST(CountryCode, ParsesTwoLetters) {
  EXPECT_EQ(CountryCode::parse("be")->view(), "BE");
  EXPECT_EQ(CountryCode::parse("US")->view(), "US");
  EXPECT_FALSE(CountryCode::parse("USA"));
  EXPECT_FALSE(CountryCode::parse("U1"));
  EXPECT_TRUE(CountryCode{}.empty());
  EXPECT_EQ(CountryCode{}.view(), "");
  EXPECT_LT(*CountryCode::parse("BE"), *CountryCode::parse("US"));
}

TEST(TcpFlags, FlowTraqNamesAndDisplay) {
  EXPECT_EQ(tcp_flags::parse_name("FSYN"), tcp_flags::kSyn);
  EXPECT_EQ(tcp_flags::parse_name("fack"), tcp_flags::kAck);
  EXPECT_EQ(tcp_flags::parse_name("FECN"), tcp_flags::kEce);
  EXPECT_EQ(tcp_flags::parse_name("FCWR"), tcp_flags::kCwr);
  EXPECT_EQ(tcp_flags::parse_name("RST"), tcp_flags::kRst);
  EXPECT_FALSE(tcp_flags::parse_name("FXYZ"));
  EXPECT_EQ(tcp_flags::format(tcp_flags::kSyn | tcp_flags::kAck), "...A..S.");
  EXPECT_EQ(tcp_flags::format(0xff), "CEUAPRSF");
  EXPECT_EQ(tcp_flags::format(0), "........");
  EXPECT_EQ(tcp_flags::format_names(tcp_flags::kSyn | tcp_flags::kFin), "FFIN|FSYN");
}

TEST(IpProto, NamesAndNumbers) {
  EXPECT_EQ(ip_proto::parse("tcp"), 6);
  EXPECT_EQ(ip_proto::parse("UDP"), 17);
  EXPECT_EQ(ip_proto::parse("icmp6"), 58);
  EXPECT_EQ(ip_proto::parse("47"), 47);
  EXPECT_FALSE(ip_proto::parse("256"));
  EXPECT_FALSE(ip_proto::parse("tcpx"));
  EXPECT_FALSE(ip_proto::parse(""));
  EXPECT_EQ(ip_proto::name(6), "tcp");
  EXPECT_EQ(ip_proto::name(58), "icmp6");
  EXPECT_EQ(ip_proto::name(200), "200");
}

}  // namespace
}  // namespace flowscope
