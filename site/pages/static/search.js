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
  if (!query) return;
  ui.triggerSearch(query);
  // A search started while pagefind is still loading its filter chunks can come back
  // listing only the filters loaded so far. Once the first results are shown the
  // chunks are loaded, so the same search is run again (an empty filter selection
  // re-runs it) to list every filter.
  const settled = new MutationObserver(() => {
    if (!root.querySelector(".pagefind-ui__message")) return;
    settled.disconnect();
    ui.triggerFilters({});
  });
  settled.observe(root, { childList: true, subtree: true });
})();
