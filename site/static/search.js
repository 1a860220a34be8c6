// Static search (pagefind): filters by artist, material, theme and price band.
(() => {
  "use strict";
  const root = document.getElementById("busca");
  if (!root || !root.dataset.bundles || typeof PagefindUI === "undefined") return;
  // One pagefind bundle per shard of the catalog; the first is primary, the rest merge in.
  const [primary, ...others] = root.dataset.bundles.split(" ");
  const ui = new PagefindUI({
    element: "#busca",
    bundlePath: primary,
    mergeIndex: others.map((bundlePath) => ({ bundlePath })),
    baseUrl: root.dataset.base,
    showImages: true,
    showSubResults: false,
    resetStyles: false,
    translations: { placeholder: "Buscar esculturas, artistas, materiais…" },
  });
  const query = new URLSearchParams(location.search).get("q");
  if (query) ui.triggerSearch(query);
})();
