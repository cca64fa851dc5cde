// Strict, fast reader and writer of the MovieLens-1M `::`-separated files (users, movies,
// ratings): whole-file reads parsed with string_view and from_chars.
#include "autoint/movielens/format.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <memory>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "autoint/error.h"
#include "autoint/movielens/demographics.h"
#include "autoint/util/fnv1a.h"

namespace autoint::data {
namespace {

namespace fs = std::filesystem;

// Error messages quote the offending line; a binary or newline-free file must not turn
// into a multi-megabyte message.
constexpr size_t kMaxQuoted = 200;

// Control bytes and bytes >= 0x80 are shown as \xHH: a stray byte-order mark, NUL or
// Latin-1 byte is then visible in the message instead of garbling the terminal.
std::string escape_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte >= 0x7f || ch == '\\') {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", byte);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string quote_text(std::string_view text) {
  if (text.size() <= kMaxQuoted) {
    return fmt::format("\"{}\"", escape_bytes(text));
  }
  return fmt::format("\"{}...\" ({} bytes)", escape_bytes(text.substr(0, kMaxQuoted)), text.size());
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

std::string read_whole_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw DataError(fmt::format("{}: cannot read: is a directory, expected a file", path));
  }
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::string content;
  // The size is only a hint for one allocation; the read loop below is what counts.
  const auto size = fs::file_size(path, ec);
  if (!ec) {
    content.reserve(static_cast<size_t>(size));
  }
  std::array<char, 1 << 16> buffer;
  for (;;) {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    content.append(buffer.data(), n);
    if (n < buffer.size()) {
      if (std::ferror(file.get())) {
        throw DataError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
      }
      break;
    }
  }
  return content;
}

// Blank lines are rejected by Lines; an empty file is the same mistake at file level. A
// byte-order mark means the file was re-encoded (ML-1M is ASCII with Latin-1 titles): said
// plainly here rather than as an odd first field or a wrong field count.
void check_content(std::string_view content, const std::string& origin) {
  if (content.empty()) {
    throw DataError(fmt::format("{}: is empty, expected at least one line", origin));
  }
  const auto starts_with = [&](std::string_view prefix) {
    return content.substr(0, prefix.size()) == prefix;
  };
  std::string_view encoding;
  if (starts_with("\xef\xbb\xbf")) {
    encoding = "UTF-8 (byte-order mark EF BB BF)";
  } else if (starts_with("\xff\xfe") || starts_with("\xfe\xff")) {
    encoding = "UTF-16 (byte-order mark FF FE or FE FF)";
  }
  if (!encoding.empty()) {
    throw DataError(fmt::format(
        "{}:1: the file is encoded as {}, expected ASCII/Latin-1 text without a byte-order mark "
        "as in MovieLens-1M",
        origin, encoding));
  }
}

// Iterates the lines of a whole-file buffer: tolerates CRLF and a missing final newline,
// rejects blank lines (a truncated or hand-edited file should not load silently).
class Lines {
 public:
  Lines(const std::string& path, std::string_view content, std::string_view expected)
      : path_(path), content_(content), expected_(expected) {}

  // The next line without its line end, or false at the end of the buffer.
  bool next(std::string_view& line) {
    if (pos_ >= content_.size()) {
      return false;
    }
    const char* begin = content_.data() + pos_;
    const size_t rest = content_.size() - pos_;
    const void* nl = std::memchr(begin, '\n', rest);
    const size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - begin) : rest;
    pos_ += len + 1;
    ++line_no_;
    line = std::string_view(begin, len);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    line_ = line;
    if (line.empty()) {
      fail("got a blank line");
    }
    return true;
  }

  // Throws DataError for the current line: "<path>:<line>: expected <fields>, <what> in "<line>"".
  [[noreturn]] void fail(std::string_view what) const {
    throw DataError(fmt::format("{}:{}: expected {}, {} in {}", path_, line_no_, expected_, what,
                                quote_text(line_)));
  }

  // Same, for a specific field with its own expectation.
  [[noreturn]] void fail_field(std::string_view field, std::string_view expectation,
                               std::string_view value) const {
    throw DataError(fmt::format("{}:{}: expected {} {}, got {} in {}", path_, line_no_, field,
                                expectation, quote_text(value), quote_text(line_)));
  }

  [[noreturn]] void fail_message(std::string_view message) const {
    throw DataError(fmt::format("{}:{}: {} in {}", path_, line_no_, message, quote_text(line_)));
  }

  int64_t line_no() const { return line_no_; }

 private:
  const std::string& path_;
  std::string_view content_;
  std::string_view expected_;
  size_t pos_ = 0;
  int64_t line_no_ = 0;
  std::string_view line_;
};

// Splits on "::" into `fields`; returns the total number of fields (which may exceed N).
template <size_t N>
size_t split_fields(std::string_view line, std::array<std::string_view, N>& fields) {
  size_t count = 0;
  size_t start = 0;
  size_t search = 0;
  for (;;) {
    const void* hit = search < line.size()
                          ? std::memchr(line.data() + search, ':', line.size() - search)
                          : nullptr;
    if (hit == nullptr) {
      break;
    }
    const size_t colon = static_cast<size_t>(static_cast<const char*>(hit) - line.data());
    if (colon + 1 < line.size() && line[colon + 1] == ':') {
      if (count < N) {
        fields[count] = line.substr(start, colon - start);
      }
      ++count;
      start = colon + 2;
      search = start;
    } else {
      search = colon + 1;
    }
  }
  if (count < N) {
    fields[count] = line.substr(start);
  }
  return count + 1;
}

// The whole field must be a decimal integer (no sign other than '-', no spaces).
bool parse_int(std::string_view text, int64_t& value) {
  if (text.empty()) {
    return false;
  }
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

int64_t parse_positive_id(const Lines& lines, std::string_view name, std::string_view text) {
  int64_t value = 0;
  if (!parse_int(text, value) || value < 1) {
    lines.fail_field(name, "a positive integer", text);
  }
  return value;
}

// Maps ids to positions in a vector. Dense ids (the ML-1M case) use a flat table so a
// million rating lookups stay cheap; sparse huge ids fall back to a hash map.
class IdIndex {
 public:
  static constexpr int32_t kAbsent = -1;

  template <typename T>
  explicit IdIndex(const std::vector<T>& items) {
    int64_t max_id = 0;
    for (const auto& item : items) {
      max_id = std::max(max_id, item.id);
    }
    const int64_t dense_limit = std::max<int64_t>(1 << 20, 8 * static_cast<int64_t>(items.size()));
    dense_ = max_id <= dense_limit;
    if (dense_) {
      table_.assign(static_cast<size_t>(max_id) + 1, kAbsent);
      for (size_t i = 0; i < items.size(); ++i) {
        table_[static_cast<size_t>(items[i].id)] = static_cast<int32_t>(i);
      }
    } else {
      map_.reserve(items.size());
      for (size_t i = 0; i < items.size(); ++i) {
        map_.emplace(items[i].id, static_cast<int32_t>(i));
      }
    }
  }

  int32_t find(int64_t id) const {
    if (dense_) {
      return id >= 0 && id < static_cast<int64_t>(table_.size()) ? table_[static_cast<size_t>(id)]
                                                                 : kAbsent;
    }
    const auto it = map_.find(id);
    return it == map_.end() ? kAbsent : it->second;
  }

 private:
  bool dense_ = true;
  std::vector<int32_t> table_;
  std::unordered_map<int64_t, int32_t> map_;
};

constexpr std::string_view kUsersFormat =
    "5 '::'-separated fields UserID::Gender::Age::Occupation::Zip-code";
constexpr std::string_view kMoviesFormat = "3 '::'-separated fields MovieID::Title::Genres";
constexpr std::string_view kRatingsFormat =
    "4 '::'-separated fields UserID::MovieID::Rating::Timestamp";

}  // namespace

std::vector<User> parse_users(std::string_view content, const std::string& origin) {
  check_content(content, origin);
  Lines lines(origin, content, kUsersFormat);
  std::vector<User> users;
  // Line numbers of the ids seen so far, to point a duplicate at its first definition.
  std::unordered_map<int64_t, int64_t> seen;
  std::string_view line;
  std::array<std::string_view, 5> f;
  while (lines.next(line)) {
    const size_t n = split_fields(line, f);
    if (n != f.size()) {
      lines.fail(fmt::format("got {}", n));
    }
    User user;
    user.id = parse_positive_id(lines, "UserID", f[0]);
    if (f[1] != "M" && f[1] != "F") {
      lines.fail_field("Gender", "'M' or 'F'", f[1]);
    }
    user.gender = f[1][0];
    if (!parse_int(f[2], user.age) || !is_age_code(user.age)) {
      lines.fail_field("Age", fmt::format("one of {}", fmt::join(kAgeCodes, ", ")), f[2]);
    }
    if (!parse_int(f[3], user.occupation) || user.occupation < 0 ||
        user.occupation >= kNumOccupations) {
      lines.fail_field("Occupation", fmt::format("an integer in 0..{}", kNumOccupations - 1), f[3]);
    }
    if (f[4].empty()) {
      lines.fail_field("Zip-code", "a non-empty string", f[4]);
    }
    user.zipcode = std::string(f[4]);
    const auto [it, inserted] = seen.emplace(user.id, lines.line_no());
    if (!inserted) {
      lines.fail_message(fmt::format("expected a unique UserID, got {} again (first on line {})",
                                     user.id, it->second));
    }
    users.push_back(std::move(user));
  }
  return users;
}

namespace {

// The year of a title ending in "(YYYY)", or 0: titles without one are valid data.
int64_t title_year(std::string_view title) {
  constexpr size_t kLen = 6;  // "(YYYY)"
  if (title.size() < kLen || title[title.size() - kLen] != '(' || title.back() != ')') {
    return 0;
  }
  const std::string_view digits = title.substr(title.size() - kLen + 1, 4);
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return 0;
    }
  }
  int64_t year = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), year);
  return year;
}

}  // namespace

std::vector<Movie> parse_movies(std::string_view content, const std::string& origin) {
  check_content(content, origin);
  Lines lines(origin, content, kMoviesFormat);
  std::vector<Movie> movies;
  std::unordered_map<int64_t, int64_t> seen;
  std::string_view line;
  std::array<std::string_view, 3> f;
  while (lines.next(line)) {
    const size_t n = split_fields(line, f);
    if (n != f.size()) {
      lines.fail(fmt::format("got {}", n));
    }
    Movie movie;
    movie.id = parse_positive_id(lines, "MovieID", f[0]);
    if (f[1].empty()) {
      lines.fail_field("Title", "a non-empty string", f[1]);
    }
    movie.title = std::string(f[1]);
    movie.year = title_year(f[1]);
    std::string_view genres = f[2];
    if (genres.empty()) {
      lines.fail_field("Genres", "a non-empty '|'-separated list", genres);
    }
    for (;;) {
      const size_t bar = genres.find('|');
      const std::string_view genre = genres.substr(0, bar);
      if (genre.empty()) {
        lines.fail_field("Genres", "a '|'-separated list of non-empty names", f[2]);
      }
      movie.genres.emplace_back(genre);
      if (bar == std::string_view::npos) {
        break;
      }
      genres.remove_prefix(bar + 1);
    }
    const auto [it, inserted] = seen.emplace(movie.id, lines.line_no());
    if (!inserted) {
      lines.fail_message(fmt::format("expected a unique MovieID, got {} again (first on line {})",
                                     movie.id, it->second));
    }
    movies.push_back(std::move(movie));
  }
  return movies;
}

namespace {

// Remembers which (user, movie) pairs were rated. A bitmap over user x movie positions
// is a few MB for ML-1M and much faster than hashing a million pairs.
class PairSet {
 public:
  PairSet(size_t users, size_t movies) : movies_(movies) {
    constexpr size_t kMaxBitmapBits = size_t{1} << 31;  // 256 MB
    if (users != 0 && movies != 0 && users <= kMaxBitmapBits / movies) {
      bits_.assign(users * movies, false);
    } else {
      use_hash_ = true;
    }
  }

  // False if the pair was already present.
  bool insert(size_t user, size_t movie) {
    const size_t key = user * movies_ + movie;
    if (use_hash_) {
      return hashed_.insert(key).second;
    }
    if (bits_[key]) {
      return false;
    }
    bits_[key] = true;
    return true;
  }

 private:
  size_t movies_;
  bool use_hash_ = false;
  std::vector<bool> bits_;
  std::unordered_set<size_t> hashed_;
};

}  // namespace

std::vector<Rating> parse_ratings(std::string_view content, const std::string& origin,
                                  const std::vector<User>& users,
                                  const std::vector<Movie>& movies) {
  check_content(content, origin);
  const IdIndex user_index(users);
  const IdIndex movie_index(movies);
  PairSet pairs(users.size(), movies.size());
  Lines lines(origin, content, kRatingsFormat);
  std::vector<Rating> ratings;
  ratings.reserve(static_cast<size_t>(std::count(content.begin(), content.end(), '\n')) + 1);
  std::string_view line;
  std::array<std::string_view, 4> f;
  while (lines.next(line)) {
    const size_t n = split_fields(line, f);
    if (n != f.size()) {
      lines.fail(fmt::format("got {}", n));
    }
    Rating r;
    r.user_id = parse_positive_id(lines, "UserID", f[0]);
    r.movie_id = parse_positive_id(lines, "MovieID", f[1]);
    int64_t rating = 0;
    if (!parse_int(f[2], rating) || rating < 1 || rating > 5) {
      lines.fail_field("Rating", "an integer in 1..5", f[2]);
    }
    r.rating = static_cast<int32_t>(rating);
    if (!parse_int(f[3], r.timestamp) || r.timestamp < 0) {
      lines.fail_field("Timestamp", "a non-negative integer", f[3]);
    }
    const int32_t u = user_index.find(r.user_id);
    if (u == IdIndex::kAbsent) {
      lines.fail_message(fmt::format("expected a UserID defined in users.dat, got {}", r.user_id));
    }
    const int32_t m = movie_index.find(r.movie_id);
    if (m == IdIndex::kAbsent) {
      lines.fail_message(
          fmt::format("expected a MovieID defined in movies.dat, got {}", r.movie_id));
    }
    if (!pairs.insert(static_cast<size_t>(u), static_cast<size_t>(m))) {
      lines.fail_message(fmt::format(
          "expected at most one rating per (UserID, MovieID), got a second rating of movie {} "
          "by user {}",
          r.movie_id, r.user_id));
    }
    ratings.push_back(r);
  }
  return ratings;
}

namespace {

// A field that would break the `::` line format on reading back is refused up front
// rather than written as a file that no longer round-trips.
void check_writable(std::string_view file, std::string_view what, int64_t id,
                    std::string_view text) {
  if (text.find('\n') != std::string_view::npos || text.find('\r') != std::string_view::npos ||
      text.find("::") != std::string_view::npos) {
    throw DataError(fmt::format("cannot write {}: {} of id {} contains '::' or a line break: {}",
                                file, what, id, quote_text(text)));
  }
}

void write_whole_file(const fs::path& path, const std::string& content) {
  const std::string name = path.string();
  FilePtr file(std::fopen(name.c_str(), "wb"));
  if (!file) {
    throw DataError(fmt::format("{}: cannot open for writing: {}", name, std::strerror(errno)));
  }
  if (std::fwrite(content.data(), 1, content.size(), file.get()) != content.size()) {
    throw DataError(fmt::format("{}: cannot write: {}", name, std::strerror(errno)));
  }
  // fclose flushes; a full disk shows up here, not in fwrite.
  if (std::fclose(file.release()) != 0) {
    throw DataError(fmt::format("{}: cannot write: {}", name, std::strerror(errno)));
  }
}

}  // namespace

MovieLens read_movielens(const std::string& dir) {
  const fs::path root(dir);
  MovieLens data;
  const std::string users = (root / "users.dat").string();
  data.users = parse_users(read_whole_file(users), users);
  const std::string movies = (root / "movies.dat").string();
  data.movies = parse_movies(read_whole_file(movies), movies);
  const std::string ratings = (root / "ratings.dat").string();
  data.ratings = parse_ratings(read_whole_file(ratings), ratings, data.users, data.movies);
  return data;
}

void write_movielens(const MovieLens& data, const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    throw DataError(fmt::format("{}: cannot create directory: {}", dir, ec.message()));
  }

  std::string users;
  users.reserve(data.users.size() * 24);
  for (const User& u : data.users) {
    check_writable("users.dat", "Zip-code", u.id, u.zipcode);
    fmt::format_to(std::back_inserter(users), "{}::{}::{}::{}::{}\n", u.id, u.gender, u.age,
                   u.occupation, u.zipcode);
  }

  std::string movies;
  movies.reserve(data.movies.size() * 64);
  for (const Movie& m : data.movies) {
    check_writable("movies.dat", "Title", m.id, m.title);
    fmt::format_to(std::back_inserter(movies), "{}::{}::", m.id, m.title);
    for (size_t i = 0; i < m.genres.size(); ++i) {
      check_writable("movies.dat", "genre", m.id, m.genres[i]);
      if (m.genres[i].find('|') != std::string::npos) {
        throw DataError(fmt::format("cannot write movies.dat: genre of id {} contains '|': {}",
                                    m.id, quote_text(m.genres[i])));
      }
      if (i > 0) {
        movies.push_back('|');
      }
      movies += m.genres[i];
    }
    movies.push_back('\n');
  }

  std::string ratings;
  ratings.reserve(data.ratings.size() * 24);
  for (const Rating& r : data.ratings) {
    fmt::format_to(std::back_inserter(ratings), "{}::{}::{}::{}\n", r.user_id, r.movie_id, r.rating,
                   r.timestamp);
  }

  write_whole_file(root / "users.dat", users);
  write_whole_file(root / "movies.dat", movies);
  write_whole_file(root / "ratings.dat", ratings);
}

std::string latin1_to_utf8(const std::string& latin1) {
  std::string out;
  out.reserve(latin1.size() + latin1.size() / 8);
  for (const char ch : latin1) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (byte >> 6)));
      out.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
    }
  }
  return out;
}

namespace {

// FNV-1a over the bytes of each value, with a separator byte after each, so that field
// boundaries count ("ab" + "c" differs from "a" + "bc").
class FieldHash {
 public:
  void value(int64_t v) { field(&v, sizeof v); }
  void value(const std::string& v) { field(v.data(), v.size()); }
  std::string hex() const { return hash_.hex(); }

 private:
  void field(const void* data, std::size_t size) {
    constexpr unsigned char kSeparator = 0xFF;
    hash_.update(data, size);
    hash_.update(&kSeparator, 1);
  }
  util::Fnv1a hash_;
};

}  // namespace

DataFingerprint fingerprint(const MovieLens& data) {
  FieldHash h;
  for (const User& u : data.users) {
    h.value(u.id);
    h.value(static_cast<int64_t>(u.gender));
    h.value(u.age);
    h.value(u.occupation);
    h.value(u.zipcode);
  }
  for (const Movie& m : data.movies) {
    h.value(m.id);
    h.value(m.title);
    h.value(static_cast<int64_t>(m.genres.size()));
    for (const auto& genre : m.genres)
      h.value(genre);
  }
  for (const Rating& r : data.ratings) {
    h.value(r.user_id);
    h.value(r.movie_id);
    h.value(static_cast<int64_t>(r.rating));
    h.value(r.timestamp);
  }
  return DataFingerprint{static_cast<int64_t>(data.users.size()),
                         static_cast<int64_t>(data.movies.size()),
                         static_cast<int64_t>(data.ratings.size()), h.hex()};
}

}  // namespace autoint::data
