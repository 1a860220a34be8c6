// The cluster drill's load generator: visitors and staff driving the API through
// the site's own client code, with every request's outcome recorded.
//
// site.js runs here unchanged, in a node `vm` context per virtual user
// (browser.mjs), and is used through what it publishes (`sculptureStoreClient`):
// reads, holds and their retry rules are the page's. The stand-in fetch records
// every try (start, end, status or network error, the API's request id).
//
// A virtual user is a stream of visitors: each visitor browses a few pages
// (availability reads of a listing or of one piece), may hold pieces (a fresh
// Idempotency-Key per click), may release one, and leaves; the next visitor
// comes from a new address, over new connections. CloudFront appends the
// visitor's address to X-Forwarded-For; the stand-in does the same. Staff users
// sell: a held unit (the hold) or a free one (the piece), each sale with its own
// Idempotency-Key, retried by the same rules.
//
// Usage: node loadgen.mjs CONFIG.json. Runs until SIGTERM or "stop" on stdin,
// then lets every operation in flight finish, writes {"type":"end"} and exits.
// CONFIG: base, siteJs, out, users, staff, staffToken, visitorNet, catalog
// (slug -> edition size), pages (lists of slugs), thinkMs [min, max],
// sessionOps [min, max], holdChance, releaseChance, revisitChance, saleEveryMs,
// directSaleShare.

import fs from "node:fs";
import http from "node:http";
import { webcrypto } from "node:crypto";
import vm from "node:vm";

import { siteClient } from "./browser.mjs";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = fs.createWriteStream(config.out);
const siteJs = new vm.Script(fs.readFileSync(config.siteJs, "utf8"), { filename: "site.js" });
const slugs = Object.keys(config.catalog);
let stopping = false;
let visitors = 0;

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const between = ([low, high]) => low + Math.random() * (high - low);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const write = (record) => out.write(`${JSON.stringify(record)}\n`);

function newUser(index) {
  const user = { index, visitor: null, agent: null, op: null, base: config.base, tries: null };
  user.client = siteClient(siteJs, user);
  return user;
}

function newVisitor(user) {
  user.agent?.destroy();
  const n = visitors++;
  user.visitor = `${config.visitorNet.join(".")}.${(n >> 8) & 255}.${n & 255}`;
  user.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  return { held: [], released: new Set(), seen: [] };
}

// Run one operation, recording it with every try it made.
async function operation(user, op, fields, run) {
  const record = { type: "op", op, user: user.index, visitor: user.visitor, ...fields, attempts: [], start: Date.now() };
  user.op = record;
  user.tries = record.attempts;
  try {
    Object.assign(record, await run());
  } catch (error) {
    Object.assign(record, { outcome: "failed", ok: false, error: String(error.message || error) });
  }
  record.end = Date.now();
  user.op = null;
  user.tries = null;
  write(record);
  return record;
}

async function read(user, ids, fresh = false) {
  return operation(user, "read", { pieces: ids.length, fresh }, async () => {
    const items = await user.client.readAvailability(ids, { fresh });
    const oversold = [...items.values()]
      .filter((item) => item.held + item.sold > item.edition_size)
      .map((item) => item.sculpture);
    return { outcome: "ok", ok: true, items: Object.fromEntries([...items].map(([slug, item]) => [slug, item.available])), oversold };
  });
}

const activeHolds = new Map(); // hold id -> { id, sculpture, token, expires } (for staff sales)
const HOLD_OK = new Set(["held", "taken", "too-many-holds", "piece-held-recently"]);

async function hold(user, session, slug) {
  const key = webcrypto.randomUUID();
  const record = await operation(user, "hold", { sculpture: slug, key }, async () => {
    const result = await user.client.placeHold(slug, key);
    const fields = { outcome: result.outcome, status: result.status, ok: HOLD_OK.has(result.outcome) };
    if (result.outcome === "held") {
      fields.hold = { id: result.hold.id, sculpture: result.hold.sculpture, expires_at: result.hold.expires_at };
      const held = { ...fields.hold, token: result.hold.release_token, expires: Date.parse(result.hold.expires_at) };
      session.held.push(held);
      activeHolds.set(held.id, held);
    }
    return fields;
  });
  return record;
}

async function release(user, held) {
  activeHolds.delete(held.id);
  return operation(user, "release", { hold: held.id, sculpture: held.sculpture }, async () => {
    const reply = await user.client.send(`${user.client.API}holds/${held.id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${held.token}` },
    });
    const type = reply.data?.type || "";
    // 409 hold-sold: staff sold it first, which a visitor's release must not undo.
    const ok = reply.status === 204 || (reply.status === 409 && type.endsWith(":hold-sold"));
    return { outcome: reply.status === 204 ? "released" : type.split(":").pop() || `http-${reply.status}`, status: reply.status, ok };
  });
}

async function sell(user, target) {
  const key = webcrypto.randomUUID();
  return operation(user, "sale", { ...target, key }, async () => {
    const reply = await user.client.send(`${user.client.API}sales`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${config.staffToken}`, "Idempotency-Key": key },
      body: JSON.stringify(target),
    });
    const fields = { status: reply.status, ok: reply.status === 201 || reply.status === 409 };
    fields.outcome = reply.status === 201 ? "sold" : (reply.data?.type || `http-${reply.status}`).split(":").pop();
    if (reply.status === 201) fields.sale = { id: reply.data.id, sculpture: reply.data.sculpture, hold: reply.data.hold ?? null };
    return fields;
  });
}

async function visitorLoop(user) {
  while (!stopping) {
    const session = newVisitor(user);
    const ops = Math.round(between(config.sessionOps));
    for (let n = 0; n < ops && !stopping; n++) {
      const revisit = session.seen.length && Math.random() < config.revisitChance;
      const page = revisit ? [pick(session.seen)] : pick(config.pages);
      const seen = await read(user, page);
      if (page.length === 1) session.seen.push(page[0]);
      const slug = page[0];
      const free = seen.ok && seen.items[slug] > 0;
      if (page.length === 1 && free && Math.random() < config.holdChance) {
        await hold(user, session, slug);
        await read(user, page, true); // what the page does after a hold
      }
      const mine = session.held.filter((h) => !session.released.has(h.id));
      if (mine.length && Math.random() < config.releaseChance) {
        const held = pick(mine);
        session.released.add(held.id);
        await release(user, held);
      }
      await pause(between(config.thinkMs));
    }
  }
  user.agent?.destroy();
}

async function staffLoop(user) {
  newVisitor(user);
  while (!stopping) {
    await pause(between([0.5, 1.5]) * config.saleEveryMs);
    if (stopping) break;
    const now = Date.now();
    const candidates = [...activeHolds.values()].filter((h) => h.expires > now + 5000);
    if (candidates.length && Math.random() >= config.directSaleShare) {
      const held = pick(candidates);
      activeHolds.delete(held.id);
      await sell(user, { hold: held.id });
    } else {
      await sell(user, { sculpture: pick(slugs) });
    }
  }
  user.agent?.destroy();
}

function stop() {
  stopping = true;
}
process.on("SIGTERM", stop);
process.stdin.on("data", (data) => {
  if (String(data).includes("stop")) stop();
});
process.stdin.on("end", stop);

const users = [];
for (let i = 0; i < config.users; i++) users.push(visitorLoop(newUser(i)));
for (let i = 0; i < config.staff; i++) users.push(staffLoop(newUser(config.users + i)));
write({ type: "start", at: Date.now(), users: config.users, staff: config.staff, retry: users.length ? newUser(-1).client.RETRY : null });
await Promise.all(users);
write({ type: "end", at: Date.now(), visitors });
out.end(() => process.exit(0));
