#include "master/log_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fd_io.h"
#include "common/status.h"

namespace hera::master {

absl::StatusOr<std::unique_ptr<LogStore>> LogStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // Logs may show what a job printed of its data: the server's user's alone.
  if (!ec) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) return absl::InternalError(absl::StrCat("create log dir ", dir, ": ", ec.message()));
  return std::unique_ptr<LogStore>(new LogStore(dir));
}

std::string LogStore::PathOf(core::RunId run) const {
  // 10,000 runs per folder keeps directories small over months of runs.
  return absl::StrFormat("%s/%06d/%d.log", dir_, run / 10000, run);
}

void LogStore::OpenRun(core::RunId run) {
  std::unique_lock lock(mu_);
  if (open_.count(run)) return;
  OpenLog log;
  struct stat st;
  if (::stat(PathOf(run).c_str(), &st) == 0) log.size = st.st_size;
  open_.emplace(run, std::move(log));
}

void LogStore::CloseRun(core::RunId run) {
  std::vector<std::function<void()>> due;
  {
    std::unique_lock lock(mu_);
    DropMaskerLocked(run);
    open_.erase(run);
    due = TakeDueWatchesLocked(run);
  }
  for (auto& ready : due) ready();
}

absl::Status LogStore::Append(core::RunId run, int64_t offset, std::string_view bytes) {
  std::vector<std::function<void()>> due;
  absl::Status st;
  {
    std::unique_lock lock(mu_);
    st = AppendLocked(run, offset, bytes);
    due = TakeDueWatchesLocked(run);
  }
  // Outside the lock: a callback may call back into the store (Unwatch, Read).
  for (auto& ready : due) ready();
  return st;
}

absl::Status LogStore::AppendLocked(core::RunId run, int64_t offset, std::string_view bytes) {
  auto it = open_.find(run);
  if (it == open_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("log of run ", run, " is not open"));
  }
  OpenLog& log = it->second;
  auto masker = maskers_.find(run);
  // Bytes taken so far: those written plus those a masker holds back.
  const int64_t taken =
      log.size + (masker == maskers_.end() ? 0 : static_cast<int64_t>(masker->second.held()));
  if (offset > taken) {
    return absl::DataLossError(absl::StrCat("log of run ", run, ": chunk at ", offset,
                                            " leaves a gap after ", taken));
  }
  const int64_t skip = taken - offset;
  if (skip >= static_cast<int64_t>(bytes.size())) return absl::OkStatus();
  if (disk_ && !disk_->TakeRoom(static_cast<int64_t>(bytes.size()))) {
    // The store's reserve is for scheduling: a log never takes the last of it.
    return absl::ResourceExhaustedError(
        absl::StrCat("log of run ", run, ": not stored, the disk is full"));
  }
  bytes.remove_prefix(skip);
  if (masker == maskers_.end()) return WriteLocked(run, log, bytes);
  const std::string masked = masker->second.Feed(bytes);
  return masked.empty() ? absl::OkStatus() : WriteLocked(run, log, masked);
}

absl::Status LogStore::WriteLocked(core::RunId run, OpenLog& log, std::string_view bytes) {
  if (!log.fd.valid()) {
    const std::string path = PathOf(run);
    std::error_code ec;  // not the throwing overload: a full disk is an error, not a crash
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    log.fd.Reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    if (!log.fd.valid()) {
      const absl::Status st = absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
      if (disk_ && disk_->OnWriteFailure(st)) {
        return absl::ResourceExhaustedError(
            absl::StrCat("log of run ", run, ": not stored, the disk is full (", st.message(), ")"));
      }
      return absl::InternalError(st.message());
    }
  }
  if (log.block == 4096) {
    struct stat st;
    if (::fstat(log.fd.get(), &st) == 0 && st.st_blksize > 0) log.block = st.st_blksize;
  }
  if (auto st = WriteAll(log.fd.get(), bytes); !st.ok()) {
    // A short write may have left part of `bytes`: the file is cut back to what was stored,
    // so the next chunk continues at the right offset.
    (void)::ftruncate(log.fd.get(), log.size);
    if (disk_ && disk_->OnWriteFailure(st)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("log of run ", run, ": not stored, the disk is full (", st.message(), ")"));
    }
    return absl::InternalError(absl::StrCat("log of run ", run, ": ", st.message()));
  }
  log.size += bytes.size();
  DropMiddleLocked(run, log);
  return absl::OkStatus();
}

void LogStore::DropMiddleLocked(core::RunId run, OpenLog& log) {
  if (cap_bytes_ <= 0 || log.cannot_drop || log.size <= cap_bytes_) return;
  const int64_t head = cap_bytes_ / 2;
  const int64_t tail = cap_bytes_ - head;
  // Only whole blocks can be freed: the hole starts at the block after the head and ends at
  // the block before the tail, so the head and the tail are kept whole.
  const int64_t begin = std::max(log.dropped_to, (head + log.block - 1) / log.block * log.block);
  const int64_t end = (log.size - tail) / log.block * log.block;
  // In steps, not at every chunk: a step costs a system call and keeps up to its size more.
  const int64_t step = std::clamp<int64_t>(tail / 4, log.block, int64_t{1} << 20);
  if (end - begin < step) return;
  if (::fallocate(log.fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, begin,
                  end - begin) != 0) {
    log.cannot_drop = true;
    spdlog::warn("run {}: the log is over the cap but kept whole: {} cannot free part of a "
                 "file ({})", run, dir_, std::strerror(errno));
    return;
  }
  log.dropped_to = end;
}

absl::StatusOr<int64_t> LogStore::Remove(core::RunId run) {
  std::unique_lock lock(mu_);
  if (open_.count(run)) {
    return absl::FailedPreconditionError(absl::StrCat("the log of run ", run, " is open"));
  }
  const std::string path = PathOf(run);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("remove ", path));
  }
  // The space it took, not its length: a capped log's dropped middle took none.
  return static_cast<int64_t>(st.st_blocks) * 512;
}

void LogStore::SetSecrets(core::RunId run, std::vector<std::string> secrets) {
  std::vector<std::function<void()>> due;
  {
    std::unique_lock lock(mu_);
    DropMaskerLocked(run);  // may write out a held tail
    LogMasker masker(std::move(secrets));
    if (masker.active()) maskers_.emplace(run, std::move(masker));
    due = TakeDueWatchesLocked(run);
  }
  for (auto& ready : due) ready();
}

void LogStore::DropMaskerLocked(core::RunId run) {
  auto masker = maskers_.find(run);
  if (masker == maskers_.end()) return;
  const std::string rest = masker->second.Flush();
  maskers_.erase(masker);
  auto log = open_.find(run);
  if (rest.empty() || log == open_.end()) return;
  if (auto st = WriteLocked(run, log->second, rest); !st.ok()) {
    spdlog::warn("run {}: the last {} bytes of the log were dropped: {}", run, rest.size(),
                 st.ToString());
  }
}

namespace {

// Reads up to `n` bytes at `offset` (fewer at the end of the file).
absl::StatusOr<std::string> ReadAt(int fd, int64_t offset, int64_t n) {
  std::string out;
  out.resize(n);
  int64_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, offset + got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::InternalError(absl::StrCat("read log: ", std::strerror(errno)));
    if (r == 0) break;
    got += r;
  }
  out.resize(got);
  return out;
}

// The data after `offset` in `fd`: where it starts (past a hole, if `offset` is in one) and
// where the next hole (or the end) begins.
struct DataExtent {
  int64_t begin = 0;
  int64_t end = 0;
};
DataExtent DataAfter(int fd, int64_t offset, int64_t size) {
  const off_t begin = ::lseek(fd, offset, SEEK_DATA);
  if (begin < 0) return {size, size};  // ENXIO: only a hole is left
  const off_t end = ::lseek(fd, begin, SEEK_HOLE);
  return {begin, end < 0 ? size : end};
}

std::string Mib(int64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

}  // namespace

absl::StatusOr<core::LogReader::Chunk> LogStore::Read(core::RunId run, int64_t offset,
                                                       int64_t max_bytes) {
  if (offset < 0) return absl::InvalidArgumentError("offset must not be negative");
  UniqueFd fd(::open(PathOf(run).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Chunk{"", offset};  // nothing logged yet
    return absl::InternalError(absl::StrCat("open log: ", std::strerror(errno)));
  }
  for (;;) {
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) {
      return absl::InternalError(absl::StrCat("stat log: ", std::strerror(errno)));
    }
    if (offset >= st.st_size) return Chunk{"", offset};
    const DataExtent data = DataAfter(fd.get(), offset, st.st_size);
    Chunk chunk;
    if (data.begin > offset) {
      // The middle of a log over the cap: say so, on a line of its own, and go on after it.
      if (offset > 0) {
        HERA_ASSIGN_OR_RETURN(std::string before, ReadAt(fd.get(), offset - 1, 1));
        // push_back, not `= "\n"`: GCC 12 warns falsely (-Wrestrict) on the assignment.
        if (!before.empty() && before[0] != '\n' && before[0] != '\0') {
          chunk.data.push_back('\n');
        }
      }
      absl::StrAppend(&chunk.data, "hera: ", data.begin - offset, " bytes (",
                      Mib(data.begin - offset), ") of this log were dropped here: a stored log ",
                      "over the cap keeps the head and the tail of a run's output\n");
    }
    const int64_t room = std::max<int64_t>(0, max_bytes - static_cast<int64_t>(chunk.data.size()));
    HERA_ASSIGN_OR_RETURN(std::string bytes,
                          ReadAt(fd.get(), data.begin, std::min(room, data.end - data.begin)));
    // A writer may have dropped what was just read (it only ever drops more, never refills):
    // if the bytes read are no longer all data, they may be zeros, so read again.
    if (!bytes.empty()) {
      const DataExtent now = DataAfter(fd.get(), data.begin, st.st_size);
      if (now.begin != data.begin || now.end < data.begin + static_cast<int64_t>(bytes.size())) {
        continue;
      }
    }
    chunk.next_offset = data.begin + static_cast<int64_t>(bytes.size());
    chunk.data += bytes;
    return chunk;
  }
}

int64_t LogStore::Size(core::RunId run) {
  {
    std::unique_lock lock(mu_);
    auto it = open_.find(run);
    if (it != open_.end()) return it->second.size;
  }
  struct stat st;
  return ::stat(PathOf(run).c_str(), &st) == 0 ? st.st_size : 0;
}

core::LogReader::DataWatch LogStore::WatchForData(core::RunId run, int64_t offset,
                                                  std::function<void()> ready) {
  std::unique_lock lock(mu_);
  auto it = open_.find(run);
  if (it == open_.end()) return {DataWatch::State::kNotOpen, 0};
  if (it->second.size > offset) return {DataWatch::State::kReady, 0};
  const uint64_t id = next_watch_id_++;
  watches_.emplace(std::make_pair(run, id), Watch{offset, std::move(ready)});
  watch_runs_.emplace(id, run);
  return {DataWatch::State::kWatching, id};
}

void LogStore::Unwatch(uint64_t id) {
  // Declared first, so destroyed after the lock is released: the callback may own the last
  // reference to something whose destructor takes locks of its own.
  std::function<void()> dropped;
  std::unique_lock lock(mu_);
  auto run = watch_runs_.find(id);
  if (run == watch_runs_.end()) return;
  auto watch = watches_.find({run->second, id});
  dropped = std::move(watch->second.ready);
  watches_.erase(watch);
  watch_runs_.erase(run);
}

std::vector<std::function<void()>> LogStore::TakeDueWatchesLocked(core::RunId run) {
  std::vector<std::function<void()>> due;
  auto log = open_.find(run);
  const bool closed = log == open_.end();
  for (auto it = watches_.lower_bound({run, 0}); it != watches_.end() && it->first.first == run;) {
    if (closed || log->second.size > it->second.offset) {
      due.push_back(std::move(it->second.ready));
      watch_runs_.erase(it->first.second);
      it = watches_.erase(it);
    } else {
      ++it;
    }
  }
  return due;
}

}  // namespace hera::master
