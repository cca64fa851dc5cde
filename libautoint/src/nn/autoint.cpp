// AutoInt and AutoInt+: embedding, interacting layers, DNN branch, summed logits.
#include "autoint/nn/autoint.h"

#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace autoint::nn {
namespace {

int64_t head_dim(const AutoIntOptions& o) {
  return o.attention_dim() > 0 ? o.attention_dim() : o.embed_dim();
}

void glorot_linear(torch::nn::Linear& linear) {
  torch::nn::init::xavier_uniform_(linear->weight);
  if (linear->bias.defined())
    torch::nn::init::zeros_(linear->bias);
}

}  // namespace

AutoIntImpl::AutoIntImpl(AutoIntOptions options_) : options(std::move(options_)) {
  reset();
}

void AutoIntImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.num_layers() >= 0, "num_layers must be >= 0 (got ", o.num_layers(), ")");
  TORCH_CHECK(o.use_dnn() || o.num_layers() >= 1,
              "AutoInt without the DNN branch needs num_layers >= 1 (got 0)");
  TORCH_CHECK(o.dnn_dropout() >= 0 && o.dnn_dropout() < 1, "dnn_dropout must be in [0, 1) (got ",
              o.dnn_dropout(), ")");
  const auto fields = static_cast<int64_t>(o.cardinalities().size());
  const auto& h = o.history();
  const bool history = h.item_field() >= 0;
  TORCH_CHECK(!history || h.item_field() < fields, "history item_field must be in [0, ", fields,
              ") (got ", h.item_field(), ")");
  TORCH_CHECK(!history || h.max_len() >= 1, "history max_len must be >= 1 (got ", h.max_len(), ")");
  // The pooled history (mean, attention) is field `fields`, which dot_fields may name.
  const int64_t dot_limit = history && h.pooling() != HistoryPooling::tokens ? fields + 1 : fields;
  const auto& dot = o.dot_fields();
  TORCH_CHECK(dot.empty() || (dot.size() == 2 && dot[0] != dot[1] && dot[0] >= 0 && dot[1] >= 0 &&
                              dot[0] < dot_limit && dot[1] < dot_limit),
              "dot_fields must be empty or two different field indices in [0, ", dot_limit,
              ") (got [", fmt::format("{}", fmt::join(dot, ", ")), "])");
  TORCH_CHECK(o.dot_dim() >= 0, "dot_dim must be >= 0 (got ", o.dot_dim(), ")");
  TORCH_CHECK(o.dot_dim() == 0 || !dot.empty(), "dot_dim ", o.dot_dim(), " needs dot_fields");
  embedding = register_module("embedding",
                              FieldEmbedding(FieldEmbeddingOptions(o.cardinalities(), o.embed_dim())
                                                 .kinds(o.field_kinds())
                                                 .widths(o.field_widths())));

  if (history) {
    TORCH_CHECK(embedding->kind(h.item_field()) == FieldKind::categorical, "history item_field ",
                h.item_field(), " must be a categorical field");
  }
  const int64_t all_fields = fields + history_fields(h);
  attention_layers = register_module("attention_layers", torch::nn::ModuleList());
  int64_t dim = o.embed_dim();
  for (int64_t l = 0; l < o.num_layers(); ++l) {
    InteractingLayer layer(InteractingLayerOptions(dim, head_dim(o), o.num_heads())
                               .use_residual(o.use_residual())
                               .scale_attention(o.scale_attention())
                               .layer_norm(o.layer_norm())
                               .attention_dropout(o.attention_dropout())
                               .kernel(o.kernel()));
    dim = layer->out_dim();
    attention_layers->push_back(layer);
  }
  attention_out =
      register_module("attention_out",
                      torch::nn::Linear(torch::nn::LinearOptions(all_fields * dim, 1).bias(false)));
  glorot_linear(attention_out);

  if (o.use_dnn()) {
    dnn = register_module("dnn", torch::nn::Sequential());
    int64_t in = all_fields * o.embed_dim();
    for (int64_t units : o.dnn_hidden_units()) {
      TORCH_CHECK(units >= 1, "dnn_hidden_units entries must be >= 1 (got ", units, ")");
      torch::nn::Linear linear(in, units);
      glorot_linear(linear);
      dnn->push_back(linear);
      dnn->push_back(torch::nn::ReLU());
      dnn->push_back(torch::nn::Dropout(o.dnn_dropout()));
      in = units;
    }
    dnn_out = register_module("dnn_out", torch::nn::Linear(in, 1));
    glorot_linear(dnn_out);
  }

  if (history)
    history_pooling = register_module("history_pooling", HistoryPoolingLayer(h, o.embed_dim()));

  if (o.dot_dim() > 0) {
    // The dot fields' own embeddings, registered last (so that every other parameter draws the
    // same initial values with or without them). The history's are rows of the item field's.
    std::vector<int64_t> cards;
    for (std::size_t i = 0; i < 2; ++i) {
      const int64_t f = dot[i] == fields ? h.item_field() : dot[i];
      TORCH_CHECK(embedding->kind(f) == FieldKind::categorical,
                  "dot_dim > 0 needs categorical dot_fields (field ", dot[i], " is not)");
      dot_columns[i] = dot[i] == fields ? -1 : embedding->id_column(dot[i]);
      cards.push_back(o.cardinalities()[static_cast<std::size_t>(f)]);
    }
    dot_embedding =
        register_module("dot_embedding", FieldEmbedding(FieldEmbeddingOptions(cards, o.dot_dim())));
  }
}

int64_t AutoIntImpl::interacting_fields() const {
  return embedding->fields() + history_fields(options.history());
}

std::pair<torch::Tensor, torch::Tensor> AutoIntImpl::history_items(const torch::Tensor& history,
                                                                   int64_t rows) const {
  const int64_t len = options.history().max_len();
  TORCH_CHECK(history.defined() && history.dim() == 2 && history.size(0) > 0 &&
                  rows % history.size(0) == 0 && history.size(1) == len,
              "this model takes a history [", rows, ", ", len, "] (or [", rows, " / g, ", len,
              "], each row shared by g rows) (got ",
              history.defined() ? history.sizes() : torch::IntArrayRef{}, ")");
  TORCH_CHECK(history.scalar_type() == torch::kInt64 || history.scalar_type() == torch::kInt32,
              "a history holds int64 or int32 ids (got ", history.scalar_type(), ")");
  const torch::Tensor ids = history.to(torch::kInt64);
  const torch::Tensor items =
      torch::embedding(embedding->weight, ids + embedding->start(options.history().item_field()));
  return {items, ids.gt(0).to(embedding->weight.scalar_type())};
}

torch::Tensor AutoIntImpl::history_weights(const torch::Tensor& ids, const torch::Tensor& numeric,
                                           const torch::Tensor& history) {
  TORCH_CHECK(has_history(), "history_weights: this model has no history input");
  const torch::Tensor e = embedding->forward(ids, numeric);
  const auto [items, mask] = history_items(history, ids.size(0));
  return history_pooling->weights(items, mask, e.select(1, options.history().item_field()));
}

std::pair<torch::Tensor, torch::Tensor> AutoIntImpl::forward_with_embeddings(
    const torch::Tensor& ids, const torch::Tensor& numeric, const torch::Tensor& history) {
  torch::Tensor e = embedding->forward(ids, numeric);
  torch::Tensor items, mask;
  if (history_pooling) {
    std::tie(items, mask) = history_items(history, ids.size(0));
    const torch::Tensor target = e.select(1, options.history().item_field());
    e = torch::cat({e, history_pooling->forward(items, mask, target)}, 1);
  } else {
    TORCH_CHECK(!history.defined(), "this model has no history input (got a history ",
                history.sizes(), ")");
  }
  torch::Tensor a = e;
  for (const auto& layer : *attention_layers)
    a = layer->as<InteractingLayer>()->forward(a);
  torch::Tensor logit = attention_out->forward(a.flatten(1));
  if (dnn) {
    torch::Tensor h = e.flatten(1);
    if (!dnn->is_empty())
      h = dnn->forward(h);
    logit = logit + dnn_out->forward(h);
  }
  if (dot_embedding) {
    torch::Tensor pair;
    if (dot_columns[0] >= 0 && dot_columns[1] >= 0) {
      pair = dot_embedding->forward(
          torch::stack({ids.select(1, dot_columns[0]), ids.select(1, dot_columns[1])}, 1));
    } else {
      // The history side: the mean of its items' own dot embeddings (FISM's user vector).
      std::vector<torch::Tensor> sides;
      for (int64_t i = 0; i < 2; ++i) {
        const torch::Tensor& w = dot_embedding->weight;
        if (dot_columns[i] >= 0) {
          sides.push_back(torch::embedding(
              w, ids.select(1, dot_columns[i]).to(torch::kInt64) + dot_embedding->start(i)));
        } else {
          const torch::Tensor own =
              torch::embedding(w, history.to(torch::kInt64) + dot_embedding->start(i));
          const torch::Tensor pooled =
              (own * mask.unsqueeze(2)).sum(1) / mask.sum(1, /*keepdim=*/true).clamp_min(1.0);
          const int64_t share = ids.size(0) / history.size(0);
          sides.push_back(share == 1 ? pooled : pooled.repeat_interleave(share, 0));
        }
      }
      pair = torch::stack(sides, 1);
    }
    logit = logit + (pair.select(1, 0) * pair.select(1, 1)).sum(1, /*keepdim=*/true);
    return {logit.squeeze(1), torch::cat({e.flatten(1), pair.flatten(1)}, 1)};
  }
  if (const auto& dot = options.dot_fields(); !dot.empty())
    logit = logit + (e.select(1, dot[0]) * e.select(1, dot[1])).sum(1, /*keepdim=*/true);
  return {logit.squeeze(1), e};
}

torch::Tensor AutoIntImpl::forward(const torch::Tensor& ids, const torch::Tensor& numeric,
                                   const torch::Tensor& history) {
  return forward_with_embeddings(ids, numeric, history).first;
}

void AutoIntImpl::set_kernel(AttentionKernel kernel) {
  options.kernel(kernel);
  for (const auto& layer : *attention_layers)
    layer->as<InteractingLayer>()->options.kernel(kernel);
}

void AutoIntImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format(
      "autoint::nn::AutoInt{}(fields={}, embed_dim={}, layers={}, heads={}, attention_dim={}, "
      "dnn={}, dnn_dropout={}{}{}{})",
      options.use_dnn() ? "Plus" : "", options.cardinalities().size(), options.embed_dim(),
      options.num_layers(), options.num_heads(), head_dim(options),
      options.use_dnn() ? fmt::format("[{}]", fmt::join(options.dnn_hidden_units(), ", ")) : "none",
      options.dnn_dropout(),
      options.dot_fields().empty()
          ? ""
          : fmt::format(", dot_fields=[{}]", fmt::join(options.dot_fields(), ", ")),
      options.dot_dim() > 0 ? fmt::format(", dot_dim={}", options.dot_dim()) : "",
      history_pooling ? fmt::format(", history={} over field {}, max_len {}",
                                    to_string(options.history().pooling()),
                                    options.history().item_field(), options.history().max_len())
                      : "");
}

int64_t expected_parameter_count(const AutoIntOptions& o) {
  const auto& cards = o.cardinalities();
  const auto& h = o.history();
  const bool history = h.item_field() >= 0;
  const auto data_fields = static_cast<int64_t>(cards.size());
  const int64_t fields = data_fields + history_fields(h);
  const int64_t d = o.embed_dim();
  const int64_t hd = o.num_heads() * head_dim(o);
  const int64_t blocks = o.use_residual() ? 4 : 3;
  int64_t count = std::accumulate(cards.begin(), cards.end(), int64_t{0}) * d;
  int64_t in = d;
  for (int64_t l = 0; l < o.num_layers(); ++l) {
    count += in * blocks * hd + (o.layer_norm() ? 2 * hd : 0);
    in = hd;
  }
  count += fields * in;  // attention_out, no bias
  if (o.use_dnn()) {
    int64_t dnn_in = fields * d;
    for (int64_t units : o.dnn_hidden_units()) {
      count += dnn_in * units + units;
      dnn_in = units;
    }
    count += dnn_in + 1;
  }
  if (history && h.pooling() == HistoryPooling::attention)
    count += (3 * d + 1) * h.attention_units() + h.attention_units() + 1;
  if (o.dot_dim() > 0) {
    for (int64_t f : o.dot_fields()) {
      const int64_t field = f == data_fields ? h.item_field() : f;
      count += cards[static_cast<std::size_t>(field)] * o.dot_dim();
    }
  }
  return count;
}

double estimated_training_bytes(const AutoIntOptions& o, int64_t batch_rows) {
  const auto& h = o.history();
  const double fields =
      static_cast<double>(o.cardinalities().size()) + static_cast<double>(history_fields(h));
  const double d = static_cast<double>(o.embed_dim());
  const double heads = static_cast<double>(o.num_heads());
  const double width = heads * static_cast<double>(head_dim(o));
  double per_row = fields * d;
  for (int64_t l = 0; l < o.num_layers(); ++l)
    per_row += fields * (4.0 * width + heads * fields);
  for (int64_t units : o.dnn_hidden_units())
    per_row += 2.0 * static_cast<double>(units);
  const double parameters = static_cast<double>(expected_parameter_count(o));
  return 4.0 * (5.0 * parameters + 2.0 * per_row * static_cast<double>(batch_rows));
}

}  // namespace autoint::nn
