// autoint-serve's page logic: reads /api/, renders with DOM nodes (never innerHTML, so titles
// cannot inject markup), keeps the chosen user in the URL (?user=ID).
"use strict";

const WATCHED_PREVIEW = 15;
const state = { info: null, user: null, showAllWatched: false, ratings: [], searchSeq: 0,
                liked: [], likedSeq: 0, movieSeq: 0 };

function $(id) { return document.getElementById(id); }

// el("td", {class: "rank"}, "1") -> <td class="rank">1</td>
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key === "style") node.style.cssText = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  let body;
  try {
    body = await response.json();
  } catch (e) {
    throw new Error(`${path}: HTTP ${response.status}, not JSON`);
  }
  if (!response.ok) throw new Error(body.error || `${path}: HTTP ${response.status}`);
  return body;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// ML-1M titles end in "(YYYY)", shown on its own, and move a leading article to the end
// ("Godfather, The"; "City of Lost Children, The (Cité des enfants perdus, La)"): both
// are undone for reading.
function displayTitle(movie) {
  const title = movie.title.replace(/\s*\(\d{4}\)\s*$/, "");
  return title.replace(/^(.+?), (The|A|An)( \(.*\))?$/, "$2 $1$3");
}

function genreChip(genre) {
  let hash = 0;
  for (const c of genre) hash = (hash * 31 + c.charCodeAt(0)) % 360;
  return el("span", { class: "genre", style: `background:hsl(${hash},70%,93%);color:hsl(${hash},45%,32%)` },
            genre);
}

function movieCell(movie) {
  return el("td", {},
            el("span", { class: "title" }, displayTitle(movie)),
            movie.year ? el("span", { class: "year" }, movie.year) : null,
            el("div", { class: "genres" }, ...movie.genres.map(genreChip)));
}

function stars(rating) {
  return el("span", { class: "stars", title: `${rating} of 5`, "aria-label": `${rating} of 5` },
            "★".repeat(rating), el("span", { class: "off" }, "★".repeat(5 - rating)));
}

function emptyRow(columns, text) {
  return el("tr", {}, el("td", { class: "empty", colspan: columns }, text));
}

function renderProfile(user) {
  $("profile").dataset.userId = user.id;
  $("avatar").textContent = user.gender;
  $("profile-title").textContent = `User ${user.id}`;
  $("profile-subtitle").textContent =
    `${user.gender_name}, ${user.age_group}, ${user.occupation_name}`;
  const facts = [["Gender", user.gender_name], ["Age group", user.age_group],
                 ["Occupation", user.occupation_name], ["Zip code", user.zipcode],
                 ["Movies rated", user.rated_count.toLocaleString("en-US")]];
  $("facts").replaceChildren(...facts.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v))));
}

// "Because you liked A, B" under a history-aware recommendation.
function becauseLine(movie) {
  const why = movie.because_you_liked || [];
  if (!why.length) return null;
  return el("div", { class: "because" }, "Because you liked ",
            why.map((m) => displayTitle(m)).join(" and "));
}

function renderRecommendations(list, emptyText) {
  const rows = list.map((movie) => {
    const percent = (movie.score * 100).toFixed(1);
    const cell = movieCell(movie);
    const because = becauseLine(movie);
    if (because) cell.append(because);
    return el("tr", { class: "rec", "data-movie-id": movie.movie_id },
              el("td", { class: "rank" }, movie.rank),
              cell,
              el("td", {}, el("div", { class: "score", title: `probability ${movie.score.toFixed(4)}` },
                              el("div", { class: "bar" }, el("span", { style: `width:${percent}%` })),
                              el("span", { class: "score-value" }, `${percent}%`))));
  });
  $("recommendations").replaceChildren(
    ...(rows.length ? rows : [emptyRow(3, emptyText || "This user has rated every movie.")]));
}

function renderWatched() {
  const all = state.ratings;
  const shown = state.showAllWatched ? all : all.slice(0, WATCHED_PREVIEW);
  const rows = shown.map((movie) => el("tr", { class: "watched", "data-movie-id": movie.movie_id },
                                       el("td", {}, stars(movie.rating)), movieCell(movie)));
  $("watched").replaceChildren(...(rows.length ? rows : [emptyRow(2, "No ratings.")]));
  $("watched-count").textContent = `${all.length.toLocaleString("en-US")} rated`;
  const more = $("show-all");
  more.hidden = all.length <= WATCHED_PREVIEW;
  more.textContent = state.showAllWatched ? "Show fewer" : `Show all ${all.length}`;
}

function markActive() {
  for (const item of $("user-list").children)
    item.classList.toggle("active", Number(item.dataset.userId) === state.user);
}

async function loadUser(id) {
  document.body.dataset.state = "loading";
  const top = $("top").value;
  try {
    const [profile, ratings, recs] = await Promise.all([
      api(`/api/users/${encodeURIComponent(id)}`),
      api(`/api/users/${encodeURIComponent(id)}/ratings`),
      api(`/api/users/${encodeURIComponent(id)}/recommendations?top=${top}`),
    ]);
    showError("");
    state.user = profile.user.id;
    state.ratings = ratings.ratings;
    state.showAllWatched = false;
    $("user-id").value = state.user;
    $("recommended-title").textContent = "Recommended for this user";
    renderProfile(profile.user);
    renderRecommendations(recs.recommendations);
    renderWatched();
    markActive();
    history.replaceState(null, "", `?user=${state.user}`);
    document.body.dataset.state = "ready";
  } catch (e) {
    showError(e.message);
    document.body.dataset.state = "error";
  }
}

async function search(query) {
  const seq = ++state.searchSeq;  // a slow answer to an older query must not win
  try {
    const result = await api(`/api/users?limit=50&query=${encodeURIComponent(query)}`);
    if (seq !== state.searchSeq) return;
    const items = result.users.map((u) => el("li", { "data-user-id": u.id },
      el("div", {}, el("strong", {}, `#${u.id}`), ` · ${u.gender_name} · ${u.age_group}`),
      el("div", { class: "meta" }, `${u.occupation_name} · ${u.rated_count} rated`)));
    $("user-list").replaceChildren(...items);
    const more = result.total > result.users.length ? ` (first ${result.users.length})` : "";
    $("search-summary").textContent =
      `${result.total.toLocaleString("en-US")} user${result.total === 1 ? "" : "s"}${more}`;
    markActive();
  } catch (e) {
    if (seq === state.searchSeq) showError(e.message);
  }
}

// The visitor's liked movies as removable chips, and the recommendations for them.
function renderLiked() {
  const chips = state.liked.map((m) => el("li", { "data-movie-id": m.movie_id, title: "Remove" },
                                          displayTitle(m), " ×"));
  $("liked-list").replaceChildren(...chips);
}

async function loadLiked() {
  const seq = ++state.likedSeq;
  document.body.dataset.state = "loading";
  const ids = state.liked.map((m) => m.movie_id).join(",");
  try {
    const result = await api(`/api/recommend?liked=${ids}&top=${$("top").value}`);
    if (seq !== state.likedSeq) return;
    showError("");
    state.user = null;
    $("recommended-title").textContent = "Recommended for you";
    $("score-hint").textContent = result.notes.length ? result.notes.join(" ") :
      `Movies you have not listed, ranked by ${result.score}.`;
    renderRecommendations(result.recommendations, "You have listed every movie.");
    markActive();
    history.replaceState(null, "", `?liked=${ids}`);
    document.body.dataset.state = "ready";
  } catch (e) {
    if (seq !== state.likedSeq) return;
    showError(e.message);
    document.body.dataset.state = "error";
  }
}

async function searchMovies(query) {
  const seq = ++state.movieSeq;
  try {
    const result = await api(`/api/movies?limit=20&query=${encodeURIComponent(query)}`);
    if (seq !== state.movieSeq) return;
    const items = result.movies.map((m) => el("li", { "data-movie-id": m.movie_id },
      el("div", {}, el("strong", {}, displayTitle(m)), m.year ? ` · ${m.year}` : ""),
      el("div", { class: "meta" }, m.genres.join(" · "))));
    $("movie-list").replaceChildren(...items);
    state.movieResults = result.movies;
  } catch (e) {
    if (seq === state.movieSeq) showError(e.message);
  }
}

function setUpLiked() {
  $("liked-card").hidden = false;
  let timer = null;
  $("movie-search").addEventListener("input", (event) => {
    clearTimeout(timer);
    const query = event.target.value.trim();
    timer = setTimeout(() => (query ? searchMovies(query) : $("movie-list").replaceChildren()), 200);
  });
  $("movie-list").addEventListener("click", (event) => {
    const item = event.target.closest("li");
    if (!item) return;
    const movie = (state.movieResults || []).find((m) => m.movie_id === Number(item.dataset.movieId));
    if (movie && !state.liked.some((m) => m.movie_id === movie.movie_id)) {
      state.liked.push(movie);
      renderLiked();
      loadLiked();
    }
  });
  $("liked-list").addEventListener("click", (event) => {
    const item = event.target.closest("li");
    if (!item) return;
    state.liked = state.liked.filter((m) => m.movie_id !== Number(item.dataset.movieId));
    renderLiked();
    loadLiked();
  });
}

async function start() {
  try {
    state.info = await api("/api/info");
  } catch (e) {
    showError(e.message);
    document.body.dataset.state = "error";
    return;
  }
  const info = state.info;
  $("dataset").textContent = `AutoInt · MovieLens · ${info.users.toLocaleString("en-US")} users · ` +
    `${info.movies.toLocaleString("en-US")} movies · ${info.ratings.toLocaleString("en-US")} ratings`;
  $("user-id").placeholder = `User id, e.g. ${info.default_user}`;
  $("score-hint").textContent = `Movies the user has not rated, ranked by ${info.score}.`;

  $("user-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("user-id").value.trim();
    if (id) loadUser(id);
  });
  $("top").addEventListener("change", () => {
    if (state.user !== null) loadUser(state.user);
    else if (state.info.history) loadLiked();
  });
  $("show-all").addEventListener("click", () => {
    state.showAllWatched = !state.showAllWatched;
    renderWatched();
  });
  $("user-list").addEventListener("click", (event) => {
    const item = event.target.closest("li");
    if (item) loadUser(item.dataset.userId);
  });
  let timer = null;
  $("user-search").addEventListener("input", (event) => {
    clearTimeout(timer);
    timer = setTimeout(() => search(event.target.value), 200);
  });

  const params = new URLSearchParams(location.search);
  search("");
  if (info.history) setUpLiked();
  if (info.history && params.has("liked")) {
    // ?liked=ID,ID: a visitor's list (the API names any id it does not know).
    const ids = params.get("liked").split(",").filter((x) => x !== "");
    state.liked = ids.map((id) => ({ movie_id: Number(id), title: `Movie ${id}`, genres: [] }));
    try {
      const found = await Promise.all(ids.map((id) => api(`/api/movies/${encodeURIComponent(id)}`)));
      state.liked = found.map((r) => r.movie);
    } catch (e) { /* the recommend call below reports the bad id */ }
    renderLiked();
    await loadLiked();
    return;
  }
  await loadUser(params.get("user") || info.default_user);
}

start();
