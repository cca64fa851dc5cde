// How a model input field is represented: the one notion the data and nn layers share.
#pragma once

#include <string>

namespace autoint {

// categorical: one id per row; multi_categorical: a padded list of ids per row (id 0
// is padding and is masked out), mean-pooled; numeric: one real value per row,
// embedded as value x a learned vector.
enum class FieldKind { categorical, multi_categorical, numeric };

inline const char* to_string(FieldKind kind) {
  switch (kind) {
    case FieldKind::categorical:
      return "categorical";
    case FieldKind::multi_categorical:
      return "multi";
    case FieldKind::numeric:
      return "numeric";
  }
  return "?";
}

// The kind named by to_string's text; false if `text` names none.
inline bool parse_field_kind(const std::string& text, FieldKind& kind) {
  for (FieldKind k : {FieldKind::categorical, FieldKind::multi_categorical, FieldKind::numeric}) {
    if (text == to_string(k)) {
      kind = k;
      return true;
    }
  }
  return false;
}

}  // namespace autoint
