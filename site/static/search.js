// Static search (pagefind): filters by artist, material, theme and price band.
(() => {
  "use strict";
  const root = document.getElementById("busca");
  if (!root || typeof PagefindUI === "undefined") return;
  const ui = new PagefindUI({
    element: "#busca",
    bundlePath: root.dataset.bundle,
    baseUrl: root.dataset.base,
    showImages: true,
    showSubResults: false,
    resetStyles: false,
    translations: { placeholder: "Buscar esculturas, artistas, materiais…" },
  });
  const query = new URLSearchParams(location.search).get("q");
  if (query) ui.triggerSearch(query);
})();
