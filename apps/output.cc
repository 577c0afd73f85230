#include "output.h"

#include <cerrno>
#include <cstring>
#include <system_error>

namespace roam::apps {

namespace {

class FileOutput final : public Output {
 public:
  FileOutput(std::FILE* f, std::filesystem::path path, std::filesystem::path part)
      : f_(f), path_(std::move(path)), part_(std::move(part)) {}
  ~FileOutput() override { abort(); }

  std::optional<std::string> write(Bytes data) override {
    if (!f_) return "output already closed";
    if (!data.empty() && std::fwrite(data.data(), 1, data.size(), f_) != data.size()) {
      return "cannot write " + part_.string() + ": " + std::strerror(errno);
    }
    return std::nullopt;
  }

  std::optional<std::string> finish() override {
    if (!f_) return "output already closed";
    const bool ok = std::fclose(f_) == 0;
    f_ = nullptr;
    if (!ok) {
      const std::string why = std::strerror(errno);
      std::error_code ec;
      std::filesystem::remove(part_, ec);
      return "cannot write " + part_.string() + ": " + why;
    }
    std::error_code ec;
    std::filesystem::rename(part_, path_, ec);
    if (ec) {
      std::filesystem::remove(part_, ec);
      return "cannot rename " + part_.string() + " to " + path_.string() + ": " + ec.message();
    }
    return std::nullopt;
  }

  void abort() override {
    if (!f_) return;
    std::fclose(f_);
    f_ = nullptr;
    std::error_code ec;
    std::filesystem::remove(part_, ec);
  }

 private:
  std::FILE* f_;
  std::filesystem::path path_;
  std::filesystem::path part_;
};

}  // namespace

std::unique_ptr<Output> make_file_output(const std::filesystem::path& path, std::string& error) {
  std::filesystem::path part = path;
  part += ".part";
  std::FILE* f = std::fopen(part.c_str(), "wb");
  if (!f) {
    error = "cannot create " + part.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::make_unique<FileOutput>(f, path, std::move(part));
}

class OrderedOutputs::Slot final : public Output {
 public:
  Slot(OrderedOutputs& owner, std::size_t index) : owner_(owner), index_(index) {}
  ~Slot() override { abort(); }
  std::optional<std::string> write(Bytes data) override { return owner_.write(index_, data); }
  std::optional<std::string> finish() override {
    if (ended_) return "output already closed";
    ended_ = true;
    return owner_.end(index_, true);
  }
  void abort() override {
    if (ended_) return;
    ended_ = true;
    (void)owner_.end(index_, false);
  }

 private:
  OrderedOutputs& owner_;
  std::size_t index_;
  bool ended_ = false;
};

std::unique_ptr<Output> OrderedOutputs::next() {
  slots_.emplace_back();
  return std::make_unique<Slot>(*this, slots_.size() - 1);
}

std::optional<std::string> OrderedOutputs::emit(Bytes data) {
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), out_) != data.size()) {
    return std::string("cannot write to standard output: ") + std::strerror(errno);
  }
  return std::nullopt;
}

std::optional<std::string> OrderedOutputs::write(std::size_t index, Bytes data) {
  if (index == current_) return emit(data);
  auto& held = slots_[index].held;
  held.insert(held.end(), data.begin(), data.end());
  return std::nullopt;
}

std::optional<std::string> OrderedOutputs::end(std::size_t index, bool keep) {
  Pending& p = slots_[index];
  p.ended = true;
  if (!keep) p.held.clear();  // a failed body that already went straight through stays written
  std::optional<std::string> error;
  if (index != current_) return error;
  // Move on to the next slot, releasing what the finished ones held.
  while (current_ < slots_.size()) {
    Pending& cur = slots_[current_];
    if (auto e = emit(cur.held); e && !error) error = e;
    cur.held.clear();
    cur.held.shrink_to_fit();
    if (!cur.ended) break;
    ++current_;
  }
  std::fflush(out_);
  return error;
}

}  // namespace roam::apps

