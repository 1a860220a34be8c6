// Live availability and holds. Pages are complete without this script: it only
// replaces "sob consulta" with live data and enables the hold button.
//
// The first half is the API client (retry rules, availability reads, hold
// creation). It touches no page, and is published as `sculptureStoreClient`:
// the cluster drill (bench/cluster) runs this very file in node, so the rules it
// proves through node failures and deployments are the ones visitors get.
(() => {
  "use strict";
  const API = "/api/v1/";

  // How a request the API may safely receive twice is retried: reads (GET),
  // releases (DELETE) and POSTs that carry an Idempotency-Key, so a retried hold
  // is the same hold. Two cases:
  // - no answer at all (refused, reset, timed out): most likely a server that
  //   died or is stopping while the load balancer still sends it connections,
  //   until its health checks fail it (2 checks 10 s apart, each up to 5 s:
  //   terraform/modules/load_balancer). Tries go on for `patienceMs`, longer
  //   than that, so such a request always meets a live server in the end;
  // - an error answer (`statuses`): the API itself is failing; a few tries only.
  // Waits grow exponentially with "full jitter" (a random wait up to the cap),
  // so visitors cut off together do not come back together.
  const RETRY = Object.freeze({
    patienceMs: 30000, // no answer: keep trying this long (from the first try)
    attempts: 4, // an error answer: tries in all, the first included
    statuses: Object.freeze([500, 502, 503, 504]), // answers worth another try
    baseDelayMs: 250, // cap of the first wait; it doubles for each later one...
    maxDelayMs: 4000, // ...up to this
    timeoutMs: 8000, // one try (answer and body); past it, it counts as no answer
    maxRetryAfterSeconds: 5, // a server asking for a longer pause is not waited for
  });

  // What the hold button says for each outcome other than a hold.
  const HOLD_MESSAGES = Object.freeze({
    taken: "Esta peça acabou de ser reservada por outra pessoa.",
    "too-many-holds": "Você já tem 3 peças reservadas. Espere uma reserva terminar para reservar outra.",
    "piece-held-recently": "Você já reservou esta peça há pouco; ela fica livre para outras pessoas por um tempo.",
    "rate-limited": "Muitas tentativas; tente de novo em alguns minutos.",
    failed: "Não foi possível reservar agora. Tente de novo ou fale com a galeria.",
  });
  // The hold policy's refusals (429 problem types of the API); any other 429 is the CDN's.
  const LIMITS = ["too-many-holds", "piece-held-recently"];

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Milliseconds to wait before the next try, or null for none. `tries`: tries
  // made so far; `reply`: the last answer (null: none came); `elapsedMs`: since
  // the first try began.
  function retryDelay(tries, reply, elapsedMs, random = Math.random) {
    const backoff = Math.round(random() * Math.min(RETRY.maxDelayMs, RETRY.baseDelayMs * 2 ** (tries - 1)));
    if (!reply) return elapsedMs + backoff < RETRY.patienceMs ? backoff : null;
    if (!RETRY.statuses.includes(reply.status) || tries >= RETRY.attempts) return null;
    const header = reply.headers.get("Retry-After");
    if (header === null || !/^\d+$/.test(header.trim())) return backoff;
    const seconds = Number(header);
    return seconds > RETRY.maxRetryAfterSeconds ? null : Math.max(backoff, seconds * 1000);
  }

  function parse(text) {
    try { return JSON.parse(text); } catch { return null; }
  }

  // One try: status, headers and the parsed body, all within RETRY.timeoutMs.
  async function attempt(url, init) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), RETRY.timeoutMs);
    try {
      const response = await fetch(url, { ...init, signal: controller.signal });
      const text = await response.text();
      return { status: response.status, ok: response.ok, headers: response.headers, data: parse(text) };
    } finally {
      clearTimeout(timer);
    }
  }

  // Send a request the API may receive twice, retried by RETRY. Resolves with the
  // last answer (which may be an error status); rejects if no try got an answer.
  async function send(url, init = {}) {
    const started = Date.now();
    for (let tries = 1; ; tries++) {
      let reply = null;
      let failure = null;
      try {
        reply = await attempt(url, init);
      } catch (error) {
        failure = error;
      }
      const wait = retryDelay(tries, reply, Date.now() - started);
      if (wait === null) {
        if (reply) return reply;
        throw failure;
      }
      await sleep(wait);
    }
  }

  // Live counts of the pieces `ids`, as a Map slug -> item (pieces the API does
  // not know are absent). `fresh`: not a copy cached before (after a hold).
  async function readAvailability(ids, { fresh = false } = {}) {
    const items = new Map();
    for (let i = 0; i < ids.length; i += 50) {
      // Slugs need no escaping; literal commas keep the query in the API's fast path.
      const query = ids.slice(i, i + 50).map(encodeURIComponent).join(",");
      const reply = await send(`${API}availability?ids=${query}`, {
        headers: { Accept: "application/json" },
        cache: fresh ? "no-cache" : "default",
      });
      if (!reply.ok || !reply.data || !Array.isArray(reply.data.items)) {
        throw new Error(`availability: HTTP ${reply.status}`);
      }
      for (const item of reply.data.items) items.set(item.sculpture, item);
    }
    return items;
  }

  function limitReason(reply) {
    const problem = (reply.headers.get("Content-Type") || "").startsWith("application/problem+json");
    const type = problem && reply.data && typeof reply.data.type === "string" ? reply.data.type : "";
    return LIMITS.find((reason) => type.endsWith(`:${reason}`)) || "rate-limited";
  }

  // Hold one unit of `slug`. `key` is the Idempotency-Key: the same for every
  // try of one click (and for a later click after a failure), so however often
  // it is sent, at most one hold exists. Resolves with { outcome, hold?, status? }:
  // held, taken (409), too-many-holds, piece-held-recently, rate-limited (429),
  // or failed.
  async function placeHold(slug, key) {
    let reply;
    try {
      reply = await send(`${API}holds`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": key },
        body: JSON.stringify({ sculpture: slug }),
      });
    } catch {
      return { outcome: "failed", status: 0 };
    }
    if (reply.status === 201 && reply.data) return { outcome: "held", hold: reply.data, status: 201 };
    if (reply.status === 409) return { outcome: "taken", status: 409 };
    if (reply.status === 429) return { outcome: limitReason(reply), status: 429 };
    return { outcome: "failed", status: reply.status };
  }

  const client = Object.freeze({ API, RETRY, HOLD_MESSAGES, retryDelay, send, readAvailability, placeHold });
  globalThis.sculptureStoreClient = client;
  if (typeof document === "undefined") return; // no page: the cluster drill's node process

  // ------------------------------------------------------------------ the page

  const LABELS = {
    available: (a) => (a.edition_size === 1 ? "Disponível" : `Disponível: ${a.available} de ${a.edition_size}`),
    reserved: () => "Reservada no momento",
    sold_out: () => "Vendida",
  };
  const SCHEMA = { available: "InStock", reserved: "Reserved", sold_out: "SoldOut" };

  function badgesBySlug() {
    const map = new Map();
    for (const holder of document.querySelectorAll("[data-sculpture]")) {
      const badge = holder.querySelector("[data-availability]");
      if (!badge) continue;
      const slug = holder.dataset.sculpture;
      if (!map.has(slug)) map.set(slug, []);
      map.get(slug).push({ holder, badge });
    }
    return map;
  }

  function show(entries, item) {
    for (const { holder, badge } of entries) {
      badge.dataset.state = item ? item.status : "unknown";
      badge.textContent = item ? LABELS[item.status](item) : "Disponibilidade desconhecida no momento";
      const hold = holder.querySelector("[data-hold]");
      if (hold) {
        // Offer a hold only on an available piece, but keep this visitor's own hold message in view.
        const available = Boolean(item) && item.status === "available";
        hold.hidden = !available && !hold.querySelector("[data-hold-status]")?.textContent;
        const button = hold.querySelector("[data-hold-button]");
        if (button && item && !available) button.hidden = true;
      }
    }
    if (item) updateOffer(item);
  }

  function updateOffer(item) {
    for (const script of document.querySelectorAll('script[type="application/ld+json"]')) {
      let data;
      try { data = JSON.parse(script.textContent); } catch { continue; }
      if (data["@type"] !== "Product" || data.sku !== item.sculpture) continue;
      data.offers.availability = `https://schema.org/${SCHEMA[item.status]}`;
      script.textContent = JSON.stringify(data);
    }
  }

  async function refresh(fresh = false) {
    const map = badgesBySlug();
    if (map.size === 0) return;
    let items = null;
    try {
      items = await readAvailability([...map.keys()], { fresh });
    } catch {
      // Retried already: the page keeps working and says availability is unknown.
    }
    for (const [slug, entries] of map) show(entries, items ? items.get(slug) : null);
  }

  function time(iso) {
    return new Date(iso).toLocaleTimeString("pt-BR", { hour: "2-digit", minute: "2-digit" });
  }

  function ownHoldMessage(hold) {
    return `Reservada para você até ${time(hold.expires_at)}. Fale com a galeria para concluir a compra.`;
  }

  function restoreHold(piece, button, status) {
    // After a reload, the holder still sees their own hold until it expires.
    let hold = null;
    try { hold = JSON.parse(sessionStorage.getItem(`hold:${piece.dataset.sculpture}`) || "null"); } catch { return; }
    if (!hold || !(Date.parse(hold.expires_at) > Date.now())) return;
    status.textContent = ownHoldMessage(hold);
    button.hidden = true;
  }

  function setUpHold(piece) {
    const button = piece.querySelector("[data-hold-button]");
    const status = piece.querySelector("[data-hold-status]");
    if (!button || !status) return;
    restoreHold(piece, button, status);
    let key = null;
    button.addEventListener("click", async () => {
      // A click after a failure reuses the key: if the lost answer was a hold, it comes back.
      key = key || crypto.randomUUID();
      button.disabled = true;
      status.textContent = "Reservando…";
      const result = await placeHold(piece.dataset.sculpture, key);
      if (result.outcome === "held") {
        status.textContent = ownHoldMessage(result.hold);
        button.hidden = true;
        try { sessionStorage.setItem(`hold:${result.hold.sculpture}`, JSON.stringify(result.hold)); } catch { /* private mode */ }
      } else {
        status.textContent = HOLD_MESSAGES[result.outcome];
        if (result.outcome !== "failed") key = null; // refused: nothing was held with it
      }
      button.disabled = false;
      refresh(true);
    });
  }

  const piece = document.querySelector("article.piece[data-sculpture]");
  if (piece) setUpHold(piece);
  refresh();
})();
