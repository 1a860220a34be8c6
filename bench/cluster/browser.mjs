// A stand-in for the browser site.js runs in: a node `vm` context with a fetch.
//
// `siteClient(siteJs, browser)` runs site.js (a `vm.Script`) in a fresh context
// and returns what it publishes, `sculptureStoreClient`. Its fetch does what a
// browser's does as far as site.js uses it (method, headers, body, the "no-cache"
// mode, an abort signal), on node:http with the keep-alive agent of `browser`,
// and adds the visitor's address to X-Forwarded-For as CloudFront does. Every
// try is pushed to `browser.tries` (when set) with its start, end, status or
// network error, the API's X-Request-Id and, for a 201, the id it created.
//
// `browser`: { base, agent, visitor, tries } -- all may change between calls.

import http from "node:http";
import { webcrypto } from "node:crypto";
import vm from "node:vm";

class Reply {
  constructor(status, headers, body) {
    this.status = status;
    this.ok = status >= 200 && status < 300;
    this.headers = { get: (name) => headers[name.toLowerCase()] ?? null };
    this.body = body;
  }

  async text() {
    return this.body;
  }
}

function createdId(body) {
  try {
    return JSON.parse(body).id ?? null;
  } catch {
    return null;
  }
}

function browserFetch(browser) {
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const target = new URL(url, browser.base);
      const headers = { ...(init.headers || {}) };
      if (browser.visitor) headers["X-Forwarded-For"] = browser.visitor;
      // What the Fetch standard's "no-cache" mode sends.
      if (init.cache === "no-cache") headers["Cache-Control"] = "max-age=0";
      if (init.body !== undefined) headers["Content-Length"] = Buffer.byteLength(init.body);
      const tried = { start: Date.now(), method: init.method || "GET", path: target.pathname };
      browser.tries?.push(tried);
      const settle = (outcome) => {
        if (tried.end === undefined) Object.assign(tried, outcome, { end: Date.now() });
      };
      const fail = (error) => {
        settle({ error: error.code || error.message });
        reject(new TypeError(`Failed to fetch: ${error.code || error.message}`));
      };
      const options = { method: tried.method, headers, agent: browser.agent };
      const request = http.request(target, options, (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => {
          if (!response.complete) return;
          const body = Buffer.concat(chunks).toString("utf8");
          settle({ status: response.statusCode, rid: response.headers["x-request-id"] ?? null });
          if (response.statusCode === 201) tried.id = createdId(body);
          resolve(new Reply(response.statusCode, response.headers, body));
        });
        response.on("aborted", () => fail(new Error("aborted mid-body")));
        response.on("error", fail);
      });
      request.on("error", fail);
      init.signal?.addEventListener("abort", () =>
        request.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })),
      );
      if (init.body !== undefined) request.write(init.body);
      request.end();
    });
}

export function siteClient(siteJs, browser) {
  const context = vm.createContext({
    fetch: browserFetch(browser),
    setTimeout,
    clearTimeout,
    AbortController,
    URL,
    crypto: webcrypto,
    console,
  });
  siteJs.runInContext(context);
  return context.sculptureStoreClient;
}
