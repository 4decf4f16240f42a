// server/user_admin.h: user file paths, edits and their audit lines, grants, listings.
#include "server/user_admin.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace flowscope::server {
namespace {

namespace fs = std::filesystem;

UserDb empty_db() {
  auto db = UserDb::load("/nonexistent/flowscope-users.json");
  EXPECT_TRUE(db) << db.error().message;
  return std::move(*db);
}

TEST(UserAdmin, PathsOfAUserFileKeepTheAuditLogBesideIt) {
  auto p = user_file_paths("/var/lib/fs/users.json", "ignored.toml");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->users, fs::path("/var/lib/fs/users.json"));
  EXPECT_EQ(p->audit, fs::path("/var/lib/fs/audit.log"));
  EXPECT_FALSE(user_file_paths("", "/nonexistent/serve.toml"));
}

TEST(UserAdmin, EditsLeaveTheirAuditLines) {
  UserDb db = empty_db();
  auto group = apply_user_change(db, {UserEdit::AddGroup, "campus", "", Role::Analyst, "", {}});
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_EQ(group->event, "group_add");
  EXPECT_EQ(group->detail, "campus");
  auto add = apply_user_change(
      db, {UserEdit::AddUser, "alice", "pw", Role::ReadOnly, "read-only", {"campus"}});
  ASSERT_TRUE(add) << add.error().message;
  EXPECT_EQ(add->event, "user_add");
  EXPECT_EQ(add->detail, "alice role read-only");
  ASSERT_EQ(db.users().size(), 1u);
  EXPECT_EQ(db.users()[0].role, Role::ReadOnly);
  EXPECT_EQ(db.users()[0].groups, std::vector<std::string>{"campus"});
  auto groups = apply_user_change(db, {UserEdit::SetGroups, "alice", "", Role::Analyst, "", {}});
  ASSERT_TRUE(groups);
  EXPECT_EQ(groups->detail, "alice []");
  EXPECT_TRUE(db.users()[0].groups.empty());
  // UserDb's refusal is the error, and nothing is audited.
  EXPECT_FALSE(apply_user_change(db, {UserEdit::RemoveUser, "bob", "", Role::Analyst, "", {}}));
  auto role = apply_user_change(db, {UserEdit::SetRole, "alice", "", Role::Admin, "admin", {}});
  ASSERT_TRUE(role);
  EXPECT_EQ(role->event, "user_role");
  EXPECT_EQ(role->detail, "alice admin");
  const auto rows = user_rows(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"alice", "admin", ""}));
  EXPECT_EQ(users_json(db).dump(), R"([{"groups":[],"name":"alice","role":"admin"}])");
}

TEST(UserAdmin, GrantsAndRevokesNameEveryValueInTheAuditDetail) {
  UserDb db = empty_db();
  ASSERT_TRUE(db.add_group("campus"));
  auto d = change_grants(db, "campus", true, {"10.0.0.0/8"}, {"192.0.2.1"}, {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, "group campus ip_groups [10.0.0.0/8] exporters [192.0.2.1] interfaces []");
  auto rows = group_rows(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"campus", "10.0.0.0/8", "192.0.2.1"}));
  ASSERT_TRUE(change_grants(db, "campus", false, {}, {"192.0.2.1"}, {}));
  EXPECT_EQ(group_rows(db)[0][2], "(any)");
  EXPECT_FALSE(change_grants(db, "nosuch", true, {"10.0.0.0/8"}, {}, {}));
}

TEST(UserAdmin, GrantedIpGroupNamesMustBeKnownToTheGroupsFile) {
  const fs::path dir = fs::temp_directory_path() / "flowscope-user-admin-groups-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "groups.toml";
  std::ofstream(file) << "[[group]]\nname = \"Campus\"\naddresses = [\"10.1.0.0/16\"]\n\n"
                         "[[group]]\nname = \"DMZ\"\naddresses = [\"172.16.0.0/16\"]\n";
  EXPECT_TRUE(check_ip_group_names({"Campus", "10.0.0.0/8", "192.0.2.1"}, file));
  // Networks need no file; a name does.
  EXPECT_TRUE(check_ip_group_names({"10.0.0.0/8"}, ""));
  auto none = check_ip_group_names({"Campus"}, "");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("--groups FILE"), std::string::npos) << none.error().message;
  auto unknown = check_ip_group_names({"Campus", "Physics"}, file);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown IP group \"Physics\""), std::string::npos);
  EXPECT_NE(unknown.error().message.find("Campus, DMZ"), std::string::npos)
      << unknown.error().message;
  EXPECT_NE(unknown.error().message.find(file.string()), std::string::npos);
  EXPECT_FALSE(check_ip_group_names({"Campus"}, dir / "missing.toml"));
  fs::remove_all(dir);
}

TEST(UserAdmin, SaveWritesTheFileAndTheAuditLine) {
  const fs::path dir = fs::temp_directory_path() / "flowscope-user-admin-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  UserDb db = empty_db();
  ASSERT_TRUE(db.add_group("dmz"));
  const UserFilePaths paths{dir / "users.json", dir / "audit.log", {}};
  ASSERT_TRUE(save_users(db, paths, "group_add", "dmz"));
  auto again = UserDb::load(paths.users);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->groups().size(), 1u);
  EXPECT_EQ(again->groups()[0].name, "dmz");
  std::ifstream audit(paths.audit);
  std::string line;
  ASSERT_TRUE(std::getline(audit, line));
  EXPECT_NE(line.find("group_add"), std::string::npos) << line;
  EXPECT_NE(line.find("dmz"), std::string::npos) << line;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::server
