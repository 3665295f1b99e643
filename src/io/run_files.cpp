#include "dnmf/io/run_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::io {
namespace fs = std::filesystem;
namespace {

fs::path directory_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

/// What a path names: the file it reaches (links followed), or, for a name not taken yet, the
/// entry `name` of a directory: two outputs not yet written are one file when that agrees.
struct Identity {
  dev_t device = 0;
  ino_t inode = 0;
  std::string name;
  bool operator==(const Identity& other) const {
    return device == other.device && inode == other.inode && name == other.name;
  }
};

/// stat(2) of what `path` reaches, following links; nullopt if nothing is there.
std::optional<struct stat> reached(const std::string& path) {
  struct stat status {};
  if (stat(path.c_str(), &status) != 0) return std::nullopt;
  return status;
}

Identity identity_of(const std::string& path) {
  if (const auto status = reached(path)) return {status->st_dev, status->st_ino, ""};
  const auto directory = reached(directory_of(path).string());
  if (!directory) return {0, 0, path};  // refused by the directory check before this matters
  return {directory->st_dev, directory->st_ino, fs::path(path).filename().string()};
}

/// " other.h5" when the two paths differ (a link, or another spelling), "" when they are equal.
std::string other_path(const std::string& path, const std::string& other) {
  return path == other ? std::string() : " " + other;
}

[[noreturn]] void exists_at_commit(const std::string& target) {
  throw IoError(target +
                ": exists by now (another run created it while this one worked); not "
                "replaced without --force, and this run's result is not kept");
}

[[noreturn]] void rename_failed(const std::string& target, int error) {
  throw IoError(target + ": cannot rename the finished file into place: " + std::strerror(error));
}

/// ".NAME.tmp-": what every temporary file of the output `target` is called, before its PID.
std::string temporary_prefix(const std::string& target) {
  return "." + fs::path(target).filename().string() + ".tmp-";
}

/// Says which temporary files of earlier runs (killed before they could remove them, or still
/// writing) stand beside `target`; it leaves them alone: it cannot tell the two apart.
void mention_leftover_temporaries(const std::string& target) {
  const std::string prefix = temporary_prefix(target);
  std::error_code error;
  for (fs::directory_iterator entry(directory_of(target), error), end; !error && entry != end;
       entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::fprintf(stderr,
                 "dnmf: note: %s is the temporary file of another run of this output, killed "
                 "before it finished or still running; delete it if none is running\n",
                 entry->path().string().c_str());
  }
}
}  // namespace

std::string temporary_beside(const std::string& target) {
  return (directory_of(target) / (temporary_prefix(target) + std::to_string(getpid()))).string();
}

RunFiles& RunFiles::input(const std::string& option, const std::string& path) {
  if (!path.empty()) inputs_.push_back({option, path, "", IfExists::Fail});
  return *this;
}

RunFiles& RunFiles::output(const std::string& option, const std::string& path,
                           const std::string& continues) {
  if (!path.empty()) outputs_.push_back({option, path, continues, IfExists::Fail});
  return *this;
}

void RunFiles::check(bool force, mpi::Communicator& comm) {
  mpi::agree(comm, [&] {
    if (!comm.is_root()) return;
    std::vector<std::pair<const File*, Identity>> read;
    for (const File& file : inputs_) {
      // A missing input is no one's output; opening it reports it.
      if (reached(file.path)) read.emplace_back(&file, identity_of(file.path));
    }
    std::vector<std::pair<const File*, Identity>> written;
    for (File& file : outputs_) {
      const std::string& path = file.path;
      std::error_code ignored;
      const fs::path directory = directory_of(path);
      if (!fs::is_directory(directory, ignored)) {
        throw IoError(path + ": output directory " + directory.string() + " does not exist");
      }
      if (access(directory.c_str(), W_OK | X_OK) != 0) {
        throw IoError(path + ": output directory " + directory.string() + " is not writable");
      }
      const auto status = reached(path);
      if (status && S_ISDIR(status->st_mode))
        throw IoError(path + ": " + file.option + " is a directory");
      const Identity identity = identity_of(path);
      bool continued = false;
      for (const auto& [input, input_identity] : read) {
        if (!(identity == input_identity)) continue;
        if (input->option == file.continues) {
          continued = true;
          continue;
        }
        throw IoError(path + ": " + file.option + " is the same file as " + input->option +
                      other_path(path, input->path) +
                      "; an input is never overwritten, --force or not");
      }
      for (const auto& [other, other_identity] : written) {
        if (!(identity == other_identity)) continue;
        throw IoError(path + ": " + file.option + " is the same file as " + other->option +
                      other_path(path, other->path) + "; give each output a file of its own");
      }
      written.emplace_back(&file, identity);
      mention_leftover_temporaries(path);
      // lstat: a link that leads nowhere is still a name taken, which only --force replaces.
      struct stat link_status {};
      const bool exists = lstat(path.c_str(), &link_status) == 0;
      if (exists && !force && !continued) {
        throw IoError(path + ": " + file.option + " file exists (use --force to overwrite it)");
      }
      file.if_exists = force || continued ? IfExists::Replace : IfExists::Fail;
    }
  });
  std::vector<std::int32_t> verdicts;
  for (const File& file : outputs_) verdicts.push_back(static_cast<std::int32_t>(file.if_exists));
  comm.broadcast(verdicts.data(), static_cast<std::int64_t>(verdicts.size()), 0);
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    outputs_[i].if_exists = static_cast<IfExists>(verdicts[i]);
  }
}

IfExists RunFiles::if_exists(const std::string& option) const {
  for (const File& file : outputs_) {
    if (file.option == option) return file.if_exists;
  }
  return IfExists::Fail;
}

void require_regular_file(const std::string& path) {
  struct stat status {};
  if (stat(path.c_str(), &status) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw IoError(path + ": no such file");
    throw IoError(path + ": cannot read it: " + std::strerror(errno));
  }
  if (S_ISDIR(status.st_mode)) throw IoError(path + ": is a directory");
  if (!S_ISREG(status.st_mode)) {
    const char* kind = S_ISFIFO(status.st_mode)   ? "a FIFO"
                       : S_ISSOCK(status.st_mode) ? "a socket"
                                                  : "a device";
    throw IoError(path + ": not a regular file (" + kind + "); dnmf reads only regular files");
  }
}

void move_into_place(const std::string& temporary, const std::string& target, IfExists if_exists) {
  if (if_exists == IfExists::Replace) {
    if (std::rename(temporary.c_str(), target.c_str()) != 0) rename_failed(target, errno);
    return;
  }
  // A rename that refuses to replace, where the kernel and file system have one; else a hard
  // link, which fails with EEXIST just as atomically; only a file system without either gets a
  // check and a plain rename (a window of microseconds instead of the whole run).
#ifdef RENAME_NOREPLACE
  if (renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
    return;
  }
  if (errno == EEXIST) exists_at_commit(target);
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) rename_failed(target, errno);
#endif
  if (link(temporary.c_str(), target.c_str()) == 0) {
    unlink(temporary.c_str());
    return;
  }
  if (errno == EEXIST) exists_at_commit(target);
  if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS) {
    rename_failed(target, errno);
  }
  struct stat status {};
  if (lstat(target.c_str(), &status) == 0) exists_at_commit(target);
  if (std::rename(temporary.c_str(), target.c_str()) != 0) rename_failed(target, errno);
}

}  // namespace dnmf::io
