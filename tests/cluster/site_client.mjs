// Run one call of site.js's client (as the cluster drill runs it, bench/cluster/browser.mjs)
// and print what it returned and every try it made, as JSON.
//
// Usage: node site_client.mjs SITE_JS BASE_URL CALL ARGS_JSON
//   CALL: readAvailability | placeHold | send | rules | retryDelays
//   (retryDelays: ARGS is [[{tries, status, retryAfter, elapsedMs, random}, ...]], where
//   status null stands for no answer; it returns retryDelay's answer for each)
import fs from "node:fs";
import http from "node:http";
import vm from "node:vm";

import { siteClient } from "../../bench/cluster/browser.mjs";

const [siteJsPath, base, call, argsJson] = process.argv.slice(2);
const browser = { base, agent: new http.Agent({ keepAlive: true }), visitor: "203.0.113.9", tries: [] };
const client = siteClient(new vm.Script(fs.readFileSync(siteJsPath, "utf8")), browser);
const args = JSON.parse(argsJson || "[]");

let result;
try {
  if (call === "rules") result = { RETRY: client.RETRY, HOLD_MESSAGES: client.HOLD_MESSAGES };
  else if (call === "retryDelays") {
    result = args[0].map(({ tries, status, retryAfter, elapsedMs, random }) => {
      const reply = status === null ? null : { status, headers: { get: (name) => (name === "Retry-After" ? retryAfter : null) } };
      return client.retryDelay(tries, reply, elapsedMs, () => random);
    });
  }
  else if (call === "readAvailability") result = Object.fromEntries(await client.readAvailability(...args));
  else if (call === "send") {
    const reply = await client.send(...args);
    result = { status: reply.status, data: reply.data };
  } else result = await client[call](...args);
} catch (error) {
  result = { thrown: String(error.message || error) };
}
browser.agent.destroy();
process.stdout.write(JSON.stringify({ result, tries: browser.tries }));
