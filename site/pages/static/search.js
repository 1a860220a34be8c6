// Static search (pagefind): filters by artist, material, theme and price band.
//
// The search box shows at once, while pagefind is made ready here: the shards'
// bundles merged and every filter chunk loaded. The UI imports the same module
// (one instance per URL) and finds it ready, so the URL's query is searched once,
// with every filter counted. Searched while filter chunks were still loading,
// pagefind counted only the filters loaded so far, and the query had to be searched
// a second time, which blanked the results on screen and moved the page about.
(async () => {
  "use strict";
  const root = document.getElementById("busca");
  if (!root || !root.dataset.bundles || typeof PagefindUI === "undefined") return;
  // One pagefind bundle per shard of the catalog; the first is primary, the rest merge in.
  const [primary, ...others] = root.dataset.bundles.split(" ");
  const baseUrl = root.dataset.base;
  const ready = (async () => {
    const pagefind = await import(`${primary}pagefind.js`);
    await pagefind.options({ baseUrl });
    // Each mergeIndex call registers its bundle before it first waits, so a search
    // typed meanwhile already covers every shard.
    await Promise.all(others.map((bundlePath) => pagefind.mergeIndex(bundlePath, {})));
    await pagefind.filters();
  })();
  const ui = new PagefindUI({
    element: "#busca",
    bundlePath: primary,
    baseUrl,
    showImages: true,
    showSubResults: false,
    resetStyles: false,
    translations: { placeholder: "Buscar esculturas, artistas, materiais…" },
  });
  const query = new URLSearchParams(location.search).get("q");
  try {
    await ready;
  } catch (error) {
    console.error("search: pagefind could not be prepared", error);
  }
  if (query) ui.triggerSearch(query);
})();
