// Live availability and holds. Pages are complete without this script: it only
// replaces "sob consulta" with live data and enables the hold button.
(() => {
  "use strict";
  const API = new URL("/api/v1/", document.baseURI).pathname;
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
    const ids = [...map.keys()];
    try {
      const items = new Map();
      for (let i = 0; i < ids.length; i += 50) {
        const query = encodeURIComponent(ids.slice(i, i + 50).join(","));
        const response = await fetch(`${API}availability?ids=${query}`, {
          headers: { Accept: "application/json" },
          cache: fresh ? "no-cache" : "default", // after a hold, not the copy cached before it
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        for (const item of (await response.json()).items) items.set(item.sculpture, item);
      }
      for (const [slug, entries] of map) show(entries, items.get(slug));
    } catch {
      for (const entries of map.values()) show(entries, null);
    }
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
      key = key || crypto.randomUUID();
      button.disabled = true;
      status.textContent = "Reservando…";
      try {
        const response = await fetch(`${API}holds`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": key },
          body: JSON.stringify({ sculpture: piece.dataset.sculpture }),
        });
        if (response.status === 201) {
          const hold = await response.json();
          status.textContent = ownHoldMessage(hold);
          button.hidden = true;
          try { sessionStorage.setItem(`hold:${hold.sculpture}`, JSON.stringify(hold)); } catch { /* private mode */ }
        } else if (response.status === 409) {
          status.textContent = "Esta peça acabou de ser reservada por outra pessoa.";
          key = null;
        } else {
          throw new Error(`HTTP ${response.status}`);
        }
      } catch {
        status.textContent = "Não foi possível reservar agora. Tente de novo ou fale com a galeria.";
      } finally {
        button.disabled = false;
        refresh(true);
      }
    });
  }

  const piece = document.querySelector("article.piece[data-sculpture]");
  if (piece) setUpHold(piece);
  refresh();
})();
