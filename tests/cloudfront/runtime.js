// Runs CloudFront Functions (cloudfront-js-2.0) in node for the tests: one JSON
// line in ({"path": function file, "event": event object}), one JSON line out
// ({"result": what the handler returned} or {"error": message}). Each function
// file is loaded once into its own context, as the edge does; `require` knows
// only the runtime's `cloudfront` module, here a stub that refuses KeyValueStore
// access (the site's functions use none, and a function that starts to must
// bring a real shim with its test).
'use strict';
const fs = require('fs');
const readline = require('readline');
const vm = require('vm');

const handlers = new Map();

function edgeRequire(name) {
  if (name === 'cloudfront') {
    return {
      kvs() {
        throw new Error('KeyValueStore access needs a shim in the test');
      },
    };
  }
  throw new Error(`module ${name} is not available in CloudFront Functions`);
}

function handlerOf(path) {
  if (!handlers.has(path)) {
    const context = vm.createContext({ require: edgeRequire, console });
    vm.runInContext(fs.readFileSync(path, 'utf8'), context, { filename: path });
    if (typeof context.handler !== 'function') {
      throw new Error(`${path} defines no handler(event) function`);
    }
    handlers.set(path, context.handler);
  }
  return handlers.get(path);
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let answer;
  try {
    const { path, event } = JSON.parse(line);
    answer = { result: handlerOf(path)(event) };
  } catch (error) {
    answer = { error: String((error && error.stack) || error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
