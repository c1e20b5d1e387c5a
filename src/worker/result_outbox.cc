#include "worker/result_outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/fd_io.h"
#include "common/mutex_lock.h"
#include "common/status.h"

namespace hera::worker {
namespace {

// "HERAOBX" + format version. A new format gets a new magic.
constexpr std::string_view kMagic = "HERAOBX1";
// absl::string_view: these go into StrCat, which takes no std::string_view here (common/strings.h).
constexpr absl::string_view kFileName = "outbox.log";
constexpr absl::string_view kTempSuffix = ".tmp";
constexpr size_t kHeaderSize = 8;  // u32 length + u32 crc.

enum EntryType : uint8_t { kPut = 1, kAck = 2 };

// CRC-32C (Castagnoli), bitwise-reflected, as in leveldb and ext4. Our Abseil (20220623)
// predates absl/crc, and the outbox writes a few hundred bytes per run: a table is plenty.
constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

// CRC-32C of `head` followed by `tail`.
uint32_t Crc32c(std::string_view head, std::string_view tail) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : head) c = kCrcTable[(c ^ b) & 0xFFu] ^ (c >> 8);
  for (unsigned char b : tail) c = kCrcTable[(c ^ b) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// Reads the fields PutU32/PutU64/PutString wrote; any read past the end fails the decoder.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && data_.empty(); }
  uint8_t U8() { return static_cast<uint8_t>(Take(1)[0]); }
  uint32_t U32() {
    std::string_view b = Take(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(b[i])) << (8 * i);
    return v;
  }
  uint64_t U64() {
    std::string_view b = Take(8);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
    return v;
  }
  std::string String() {
    uint32_t size = U32();
    return std::string(Take(size));
  }

 private:
  // Returns `n` bytes; past the end, marks the decoder failed and returns zeros (at most 8, the
  // widest fixed field, so a bad string length allocates nothing).
  std::string_view Take(size_t n) {
    if (!ok_ || data_.size() < n) {
      static constexpr char kZeros[8] = {};
      ok_ = false;
      return std::string_view(kZeros, std::min<size_t>(n, sizeof(kZeros)));
    }
    std::string_view out = data_.substr(0, n);
    data_.remove_prefix(n);
    return out;
  }

  std::string_view data_;
  bool ok_ = true;
};

// Frames `payload`: the crc covers the length too, so a run of zero bytes (what a crash can
// leave after an extended file size) never reads as a valid empty entry.
std::string Frame(const std::string& payload) {
  std::string framed;
  framed.reserve(kHeaderSize + payload.size());
  PutU32(&framed, static_cast<uint32_t>(payload.size()));
  PutU32(&framed, Crc32c(framed, payload));
  framed += payload;
  return framed;
}

std::string PutPayload(const ResultRecord& r) {
  std::string p;
  p.push_back(static_cast<char>(kPut));
  PutU64(&p, static_cast<uint64_t>(r.run_id));
  PutU64(&p, static_cast<uint64_t>(r.term));
  PutU32(&p, static_cast<uint32_t>(r.exit_code));
  PutU32(&p, static_cast<uint32_t>(r.signal));
  PutString(&p, r.status);
  PutString(&p, r.reason);
  PutU64(&p, static_cast<uint64_t>(r.log_bytes));
  PutU64(&p, static_cast<uint64_t>(absl::ToUnixMicros(r.ended_at)));
  return p;
}

std::string AckPayload(int64_t run_id) {
  std::string p;
  p.push_back(static_cast<char>(kAck));
  PutU64(&p, static_cast<uint64_t>(run_id));
  return p;
}

// One decoded entry: a Put carries the record, an Ack only the run id.
struct Decoded {
  EntryType type;
  ResultRecord record;
};

std::optional<Decoded> DecodePayload(std::string_view payload) {
  Decoder d(payload);
  Decoded out;
  uint8_t type = d.U8();
  ResultRecord& r = out.record;
  r.run_id = static_cast<int64_t>(d.U64());
  if (type == kPut) {
    out.type = kPut;
    r.term = static_cast<int64_t>(d.U64());
    r.exit_code = static_cast<int>(static_cast<int32_t>(d.U32()));
    r.signal = static_cast<int>(static_cast<int32_t>(d.U32()));
    r.status = d.String();
    r.reason = d.String();
    r.log_bytes = static_cast<int64_t>(d.U64());
    r.ended_at = absl::FromUnixMicros(static_cast<int64_t>(d.U64()));
  } else if (type == kAck) {
    out.type = kAck;
  } else {
    return std::nullopt;
  }
  if (!d.done()) return std::nullopt;  // Short, or trailing bytes: not an entry we wrote.
  return out;
}

// An out-parameter, not StatusOr<std::string>: GCC 12 at -O2 reports the string moved out of a
// StatusOr as maybe-uninitialized.
absl::Status ReadAll(int fd, const std::string& path, std::string* data) {
  char buf[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("read ", path));
    if (n == 0) return absl::OkStatus();
    data->append(buf, static_cast<size_t>(n));
  }
}

absl::Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fsync directory ", dir));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ResultOutbox>> ResultOutbox::Open(const std::string& dir,
                                                                 ResultOutboxOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("create outbox dir ", dir));

  // Two writers appending to one file would interleave entries: refuse the second.
  std::string lock_path = absl::StrCat(dir, "/LOCK");
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("open ", lock_path));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("result outbox ", dir, " is in use by another worker"));
    }
    return absl::ErrnoToStatus(errno, absl::StrCat("flock ", lock_path));
  }

  std::unique_ptr<ResultOutbox> outbox(new ResultOutbox(dir, options, std::move(lock)));
  MutexLock l(&outbox->mu_);
  // A compaction that crashed before its rename left the old file intact; drop its copy.
  std::string temp = absl::StrCat(outbox->path(), kTempSuffix);
  if (::unlink(temp.c_str()) < 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("remove ", temp));
  }
  HERA_RETURN_IF_ERROR(outbox->Replay());
  HERA_RETURN_IF_ERROR(outbox->MaybeCompact());
  return outbox;
}

std::string ResultOutbox::path() const { return absl::StrCat(dir_, "/", kFileName); }

absl::Status ResultOutbox::Replay() {
  const std::string file = path();
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT) return Rewrite();  // First start: an empty outbox.
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("open ", file));
  std::string data;
  HERA_RETURN_IF_ERROR(ReadAll(fd.get(), file, &data));

  // The file is only ever created complete (by Rewrite's rename), so a short or foreign magic
  // is not a torn write: refuse rather than throw away what may be someone else's file. An
  // empty file holds nothing to lose and starts over.
  if (data.empty()) return Rewrite();
  if (data.size() < kMagic.size() || std::string_view(data).substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError(absl::StrCat(file, " is not a hera result outbox (bad magic)"));
  }
  size_t pos = kMagic.size();
  while (data.size() - pos >= kHeaderSize) {
    Decoder header(std::string_view(data).substr(pos, kHeaderSize));
    const uint32_t size = header.U32();
    const uint32_t crc = header.U32();
    if (data.size() - pos - kHeaderSize < size) break;  // Torn: the payload never made it.
    std::string_view covered = std::string_view(data).substr(pos, 4);
    std::string_view payload = std::string_view(data).substr(pos + kHeaderSize, size);
    if (Crc32c(covered, payload) != crc) break;
    std::optional<Decoded> entry = DecodePayload(payload);
    if (!entry) break;
    const int64_t bytes = static_cast<int64_t>(kHeaderSize + size);
    if (entry->type == kPut) {
      Insert(std::move(entry->record), bytes);
    } else {
      Erase(entry->record.run_id);
    }
    pos += kHeaderSize + size;
  }

  if (pos < data.size()) {
    // The tail after the last good entry is what a crash mid-append leaves. Cut it off now:
    // new entries appended after it would be hidden behind it at the next Open.
    if (::ftruncate(fd.get(), static_cast<off_t>(pos)) < 0 || ::fdatasync(fd.get()) < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("truncate torn tail of ", file));
    }
  }
  if (::lseek(fd.get(), static_cast<off_t>(pos), SEEK_SET) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("seek ", file));
  }
  fd_ = std::move(fd);
  file_bytes_ = static_cast<int64_t>(pos);
  return absl::OkStatus();
}

absl::Status ResultOutbox::Put(const ResultRecord& record) {
  std::string payload = PutPayload(record);
  if (payload.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("result of run ", record.run_id, " is too large for the outbox"));
  }
  std::string framed = Frame(payload);
  MutexLock l(&mu_);
  HERA_RETURN_IF_ERROR(WithContext(Append(framed), absl::StrCat("put run ", record.run_id)));
  Insert(record, static_cast<int64_t>(framed.size()));
  return MaybeCompact();
}

absl::Status ResultOutbox::Ack(int64_t run_id) {
  MutexLock l(&mu_);
  if (!seq_of_.contains(run_id)) return absl::OkStatus();  // Acked before, or never put.
  // Not synced: an ack lost in a crash only makes the worker re-send a result the master has
  // stored already, which it ignores; the next Put's sync flushes it anyway.
  HERA_RETURN_IF_ERROR(WithContext(Append(Frame(AckPayload(run_id)), /*sync=*/false),
                                   absl::StrCat("ack run ", run_id)));
  Erase(run_id);
  return MaybeCompact();
}

std::vector<ResultRecord> ResultOutbox::Pending() const {
  MutexLock l(&mu_);
  std::vector<ResultRecord> out;
  out.reserve(pending_.size());
  for (const auto& [seq, entry] : pending_) out.push_back(entry.record);
  return out;
}

int64_t ResultOutbox::file_bytes() const {
  MutexLock l(&mu_);
  return file_bytes_;
}

absl::Status ResultOutbox::Append(const std::string& framed, bool sync) {
  HERA_RETURN_IF_ERROR(broken_);
  const std::string file = path();
  absl::Status written = WriteAll(fd_.get(), framed);
  if (!written.ok()) {
    // A partial entry at the end would hide every later one at the next Open: cut it off, so a
    // failed write (ENOSPC, say) leaves the file as it was and later writes may succeed.
    if (::ftruncate(fd_.get(), static_cast<off_t>(file_bytes_)) < 0 ||
        ::lseek(fd_.get(), static_cast<off_t>(file_bytes_), SEEK_SET) < 0) {
      broken_ = absl::ErrnoToStatus(errno, absl::StrCat("truncate after failed write to ", file));
    }
    return WithContext(written, file);
  }
  // fdatasync, not fsync: the size change it flushes is all the metadata replay needs. A failed
  // sync is final: the kernel may have dropped the dirty pages and a retry would report success.
  if (sync && ::fdatasync(fd_.get()) < 0) {
    broken_ = absl::ErrnoToStatus(errno, absl::StrCat("fdatasync ", file));
    return broken_;
  }
  file_bytes_ += static_cast<int64_t>(framed.size());
  return absl::OkStatus();
}

void ResultOutbox::Insert(ResultRecord record, int64_t bytes) {
  Erase(record.run_id);
  const int64_t seq = next_seq_++;
  seq_of_[record.run_id] = seq;
  live_bytes_ += bytes;
  pending_.emplace(seq, Entry{std::move(record), bytes});
}

void ResultOutbox::Erase(int64_t run_id) {
  auto it = seq_of_.find(run_id);
  if (it == seq_of_.end()) return;
  auto entry = pending_.find(it->second);
  live_bytes_ -= entry->second.bytes;
  pending_.erase(entry);
  seq_of_.erase(it);
}

absl::Status ResultOutbox::MaybeCompact() {
  const int64_t garbage = file_bytes_ - static_cast<int64_t>(kMagic.size()) - live_bytes_;
  if (garbage <= options_.compact_min_garbage_bytes || garbage <= live_bytes_) {
    return absl::OkStatus();
  }
  // A compaction that fails before its rename leaves the old file in use and intact; it is
  // retried at the next Put or Ack. Only a failure after the rename (see Rewrite) is an error.
  (void)Rewrite();
  return broken_;
}

absl::Status ResultOutbox::Rewrite() {
  const std::string file = path();
  const std::string temp = absl::StrCat(file, kTempSuffix);
  std::string data(kMagic);
  for (const auto& [seq, entry] : pending_) data += Frame(PutPayload(entry.record));

  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("create ", temp));
  absl::Status status = WithContext(WriteAll(fd.get(), data), temp);
  // The new file must be complete on disk before the rename can make it the outbox.
  if (status.ok() && ::fsync(fd.get()) < 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("fsync ", temp));
  }
  if (status.ok() && ::rename(temp.c_str(), file.c_str()) < 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("rename ", temp, " to ", file));
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  // From here the new file is the outbox (fd is at its end) and the old fd is stale.
  fd_ = std::move(fd);
  file_bytes_ = static_cast<int64_t>(data.size());
  // Until the directory is synced, a crash may bring back the old file, and entries appended
  // to the new one would vanish: without that sync no later write can be called durable.
  absl::Status synced = SyncDir(dir_);
  if (!synced.ok()) broken_ = synced;
  return synced;
}

}  // namespace hera::worker
