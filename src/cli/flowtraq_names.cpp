#include "cli/flowtraq_names.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/field_registry.h"

namespace flowscope::cli {
namespace {

constexpr std::array<std::string_view, 3> kPrograms = {"ftsq", "ftstat", "ftum"};

// The subcommands of `flowscope user`: `ftum add ...` is `flowscope user add ...`.
constexpr std::array<std::string_view, 11> kUserCommands = {
    "add",    "remove", "passwd", "role", "set-groups", "list",
    "groups", "grant",  "revoke", "key",  "--help"};

// FlowTraq's letters whose flowscope meaning differs (docs/packaging.md "Command-line
// conventions"): under ftsq/ftstat they are rewritten to the long names of FlowTraq's meaning.
struct LetterMeaning {
  std::string_view letter;
  std::string_view long_name;
};
constexpr std::array<LetterMeaning, 3> kFtsqLetters = {
    {{"-c", "--csv"}, {"-n", "--limit"}, {"-s", "--sort"}}};
constexpr std::array<LetterMeaning, 4> kFtstatLetters = {
    {{"-c", "--csv"}, {"-n", "--top"}, {"-w", "--bucket"}, {"-g", "--graph"}}};
// ftum's user subcommands kept flowscope's old -c for the serve configuration.
constexpr std::array<LetterMeaning, 1> kFtumLetters = {{{"-c", "--config"}}};

template <std::size_t N>
void append_rewritten(std::vector<std::string>& out, const std::vector<std::string>& args,
                      const std::array<LetterMeaning, N>& letters) {
  bool options = true;
  for (const std::string& a : args) {
    if (a == "--") options = false;
    const auto it = std::find_if(letters.begin(), letters.end(),
                                 [&](const LetterMeaning& m) { return m.letter == a; });
    out.push_back(options && it != letters.end() ? std::string(it->long_name) : a);
  }
}

bool has_any(const std::vector<std::string>& args, std::initializer_list<std::string_view> names) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return std::find(names.begin(), names.end(), a) != names.end();
  });
}

std::string keyword_of(std::string_view name) {
  std::string_view base = name;
  std::string_view suffix;
  if (auto slash = name.find('/'); slash != std::string_view::npos) {
    base = name.substr(0, slash);
    suffix = name.substr(slash);
  }
  for (const FieldInfo& f : kFieldTable) {
    if (in_kind(f, RecordKind::Session) && f.name == base && !f.filter_name.empty()) {
      return std::string(f.filter_name) + std::string(suffix);
    }
  }
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

class HeaderKeywordBuf : public std::streambuf {
 public:
  explicit HeaderKeywordBuf(std::streambuf* target) : target_(target) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = static_cast<char>(c);
    if (done_) return target_->sputc(ch);
    if (ch != '\n') {
      line_.push_back(ch);
      return c;
    }
    flush_line();
    return target_->sputc('\n');
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::streamsize i = 0;
    while (!done_ && i < n) {
      if (overflow(static_cast<unsigned char>(s[i])) == traits_type::eof()) return i;
      ++i;
    }
    return i + (i < n ? target_->sputn(s + i, n - i) : 0);
  }
  int sync() override {
    // A header is written whole before anything is flushed; a partial line stays buffered.
    return target_->pubsync();
  }

 private:
  void flush_line() {
    const std::string out = flowtraq_header(line_);
    target_->sputn(out.data(), static_cast<std::streamsize>(out.size()));
    line_.clear();
    done_ = true;
  }

  std::streambuf* target_;
  std::string line_;
  bool done_ = false;
};

}  // namespace

std::optional<std::string> flowtraq_program(std::string_view argv0) {
  const auto slash = argv0.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  for (std::string_view p : kPrograms) {
    if (base == p) return std::string(p);
  }
  return std::nullopt;
}

std::vector<std::string> flowtraq_program_args(const std::string& program,
                                               const std::vector<std::string>& args) {
  std::vector<std::string> out = {"flowscope"};
  const bool user_command =
      program == "ftum" && !args.empty() &&
      std::find(kUserCommands.begin(), kUserCommands.end(), args.front()) != kUserCommands.end();
  if (user_command) {
    out.push_back("user");
    append_rewritten(out, args, kFtumLetters);
    return out;
  }
  if (program == "ftum") {
    // FlowTraq's ftum logs in; with -us it prints the new session key on stderr.
    out.insert(out.end(), {"user", "key"});
  } else {
    out.push_back(program == "ftsq" ? "query" : "stat");
  }
  out.push_back("--flowtraq-cli");
  // FlowTraq's tools always talk to a server, localhost unless -srv says otherwise.
  if (!has_any(args, {"-srv", "--srv", "-d", "--dir", "--data-dir"}))
    out.insert(out.end(), {"--srv", "localhost"});
  if (program == "ftsq") {
    append_rewritten(out, args, kFtsqLetters);
  } else if (program == "ftstat") {
    append_rewritten(out, args, kFtstatLetters);
  } else {
    append_rewritten(out, args, kFtumLetters);
  }
  return out;
}

std::string flowtraq_header(std::string_view line) {
  std::string out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = line.find(',', begin);
    const std::string_view cell = line.substr(
        begin, comma == std::string_view::npos ? std::string_view::npos : comma - begin);
    const bool cr = !cell.empty() && cell.back() == '\r';
    out += keyword_of(cr ? cell.substr(0, cell.size() - 1) : cell);
    if (cr) out.push_back('\r');
    if (comma == std::string_view::npos) break;
    out.push_back(',');
    begin = comma + 1;
  }
  return out;
}

std::unique_ptr<std::streambuf> make_header_keyword_buf(std::streambuf* target) {
  return std::make_unique<HeaderKeywordBuf>(target);
}

}  // namespace flowscope::cli
