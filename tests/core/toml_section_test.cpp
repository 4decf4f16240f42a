// The shared TOML section reader (core/toml_section.h): typed getters, file:line in every
// message, and unknown keys refused the same way in every section.
#include "core/toml_section.h"

#include <gtest/gtest.h>

namespace flowscope {
namespace {

// A copied toml::table loses its source lines; the parsed table is moved, never copied.
Result<toml::table> parse(std::string_view text) {
  auto t = parse_toml(text, "c.toml");
  EXPECT_TRUE(t) << t.error().message;
  return t;
}

TEST(TomlSection, SyntaxErrorNamesFileAndLine) {
  auto t = parse_toml("a = 1\nb = \n", "c.toml");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::Parse);
  EXPECT_EQ(t.error().message.rfind("c.toml:2: ", 0), 0u) << t.error().message;
}

TEST(TomlSection, ReadsTypedValuesAndLeavesAbsentOnes) {
  const auto parsed = parse(
      "[s]\nname = \"x\"\non = true\nn = 7\nrate = 2.5\nwait = \"90s\"\nlist = [\"a\", \"b\"]\n"
      "kind = \"v9\"\n");
  ASSERT_TRUE(parsed);
  const toml::table& root = *parsed;
  TomlSection s(root["s"].as_table(), "c.toml", "s");
  std::string name, kind, absent = "kept";
  bool on = false;
  int n = 0;
  double rate = 0;
  DurationMs wait{};
  std::vector<std::string> list;
  static constexpr std::string_view kKinds[] = {"v5", "v9"};
  ASSERT_TRUE(s.string("name", name));
  ASSERT_TRUE(s.string("absent", absent));
  ASSERT_TRUE(s.boolean("on", on));
  ASSERT_TRUE(s.integer("n", n, 1, 10));
  ASSERT_TRUE(s.number("rate", rate, 0, kNoLimit, "seconds"));
  ASSERT_TRUE(s.duration("wait", wait));
  ASSERT_TRUE(s.string_list("list", list));
  ASSERT_TRUE(s.choice("kind", kind, kKinds));
  EXPECT_TRUE(s.check_keys());
  EXPECT_EQ(name, "x");
  EXPECT_EQ(absent, "kept");
  EXPECT_TRUE(on);
  EXPECT_EQ(n, 7);
  EXPECT_DOUBLE_EQ(rate, 2.5);
  EXPECT_EQ(wait, DurationMs(90'000));
  EXPECT_EQ(list, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(kind, "v9");
}

TEST(TomlSection, WrongValuesNameFileLineSectionAndKey) {
  const auto parsed = parse(
      "top = 1\n[s]\nname = 5\non = \"yes\"\nn = 11\nwait = \"0s\"\nlist = [1]\n"
      "kind = \"v7\"\nrate = 0\n");
  ASSERT_TRUE(parsed);
  const toml::table& root = *parsed;
  TomlSection s(root["s"].as_table(), "c.toml", "s");
  std::string name, kind;
  bool on = false;
  int n = 0;
  double rate = 0;
  DurationMs wait{};
  std::vector<std::string> list;
  static constexpr std::string_view kKinds[] = {"v5", "v9"};
  EXPECT_EQ(s.string("name", name).error().message,
            "c.toml:3: [s] name: must be a string in quotes");
  EXPECT_EQ(s.boolean("on", on).error().message,
            "c.toml:4: [s] on: must be true or false (no quotes)");
  EXPECT_EQ(s.integer("n", n, 1, 10, " (1: one)").error().message,
            "c.toml:5: [s] n: must be an integer from 1 to 10 (1: one)");
  EXPECT_EQ(s.duration("wait", wait).error().message,
            "c.toml:6: [s] wait: \"0s\" must be more than zero; use e.g. \"30m\", \"12h\", "
            "\"90s\"");
  EXPECT_EQ(s.string_list("list", list).error().message,
            "c.toml:7: [s] list: every item must be a string in quotes");
  EXPECT_EQ(s.choice("kind", kind, kKinds).error().message,
            "c.toml:8: [s] kind: \"v7\" is not one of v5, v9");
  EXPECT_EQ(s.number("rate", rate, 0, kNoLimit, "seconds").error().message,
            "c.toml:9: [s] rate: must be a number of seconds above 0");
  const Error e = s.integer("n", n, 1, 10).error();
  ASSERT_TRUE(e.where);
  EXPECT_EQ(e.where->line, 5u);
  // The top level has no section name.
  TomlSection top(&root, "c.toml", "");
  std::string text;
  EXPECT_EQ(top.string("top", text).error().message, "c.toml:1: top: must be a string in quotes");
}

TEST(TomlSection, UnknownKeyListsTheKnownAndAskedKeys) {
  const auto parsed = parse("[s]\na = 1\nwrokers = 2\n[[t]]\nx = 1\n");
  ASSERT_TRUE(parsed);
  const toml::table& root = *parsed;
  TomlSection s(root["s"].as_table(), "c.toml", "s");
  int a = 0;
  ASSERT_TRUE(s.integer("a", a, 0, 9));
  static constexpr std::string_view kKnown[] = {"workers"};
  EXPECT_EQ(s.check_keys(kKnown).error().message,
            "c.toml:3: [s]: unknown key \"wrokers\"; the keys are workers, a");
  TomlSection t(root["t"][0].as_table(), "c.toml", "[t]");
  static constexpr std::string_view kY[] = {"y"};
  EXPECT_EQ(t.check_keys(kY).error().message, "c.toml:5: [[t]]: unknown key \"x\"; the keys are y");
  TomlSection top(&root, "c.toml", "");
  static constexpr std::string_view kS[] = {"s"};
  EXPECT_EQ(top.check_keys(kS).error().message, "c.toml:4: unknown key \"t\"; the keys are s");
  // An absent section has no keys to refuse.
  EXPECT_TRUE(TomlSection(nullptr, "c.toml", "none").check_keys());
}

}  // namespace
}  // namespace flowscope
