#include "engine/privileges.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tuntcp::engine {

std::string drop_privileges(const std::string& user) {
  errno = 0;
  const passwd* pw = getpwnam(user.c_str());
  if (!pw) return "--user: no such user '" + user + "'";
  if (geteuid() != 0) return "--user needs tuntcp to start as root (it must change its user id)";
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  // The bounding set first: dropping from it needs CAP_SETPCAP, which goes with the uid change.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  // glibc applies set*id to every thread of the process (the packet threads included).
  if (setgroups(0, nullptr) != 0) return std::string("--user: setgroups: ") + std::strerror(errno);
  if (setresgid(gid, gid, gid) != 0) return std::string("--user: setresgid: ") + std::strerror(errno);
  if (setresuid(uid, uid, uid) != 0) return std::string("--user: setresuid: ") + std::strerror(errno);
  // Changing all uids away from 0 clears the permitted and effective sets (capabilities(7));
  // check rather than trust, and make sure no exec can bring privileges back.
  if (setresuid(0, 0, 0) == 0) return "--user: could regain root after dropping it";
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  const std::string eff = effective_capabilities();
  if (eff != "0000000000000000") return "--user: capabilities remain after the switch: " + eff;
  return {};
}

std::string effective_capabilities() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      const auto pos = line.find_first_not_of(" \t", 7);
      return pos == std::string::npos ? "" : line.substr(pos);
    }
  }
  return "?";
}

}  // namespace tuntcp::engine
