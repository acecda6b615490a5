// Parse an AsyncAPI document with the real @asyncapi/parser and print its diagnostics as JSON.
//
// Usage: node asyncapi_validate.js FILE
// Prints {"version", "errors": [...], "warnings": [...], "messages": {id: {key: type}}}; each
// diagnostic has code, message, path (in the document) and severity; `messages` shows each parsed
// message's payload keys with their types, so a caller can see that the $refs were resolved. Exit codes: 0 no error diagnostic, 1 at least one
// error diagnostic (or no document came out), 2 usage or crash. Relative $refs (../schemas/...)
// resolve against FILE's location, as the parser's fromFile does.
'use strict';

const fs = require('fs');
const path = require('path');
const { Parser, fromFile } = require('@asyncapi/parser');

// @stoplight/types DiagnosticSeverity: 0 error, 1 warning, 2 information, 3 hint.
const SEVERITY = ['error', 'warning', 'information', 'hint'];

function show(diagnostic) {
  return {
    code: String(diagnostic.code),
    severity: SEVERITY[diagnostic.severity] || String(diagnostic.severity),
    message: diagnostic.message,
    path: (diagnostic.path || []).join('/'),
  };
}

function payloadKeys(document) {
  const out = {};
  for (const message of document.messages().all()) {
    const properties = (message.payload() && message.payload().properties()) || {};
    out[message.id()] = Object.fromEntries(
      Object.entries(properties).map(([key, schema]) => [key, schema.type() === undefined ? null : schema.type()]),
    );
  }
  return out;
}

async function main() {
  const file = process.argv[2];
  if (!file || !fs.existsSync(file)) {
    process.stderr.write(`usage: node asyncapi_validate.js FILE (got ${file === undefined ? 'nothing' : JSON.stringify(file)})\n`);
    return 2;
  }
  const parser = new Parser();
  const { document, diagnostics } = await fromFile(parser, path.resolve(file)).parse();
  const all = diagnostics.map(show);
  const errors = all.filter((d) => d.severity === 'error');
  const report = {
    version: document ? document.version() : null,
    errors,
    warnings: all.filter((d) => d.severity !== 'error'),
    messages: document ? payloadKeys(document) : {},
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  return errors.length || !document ? 1 : 0;
}

// exitCode, not exit(): a piped stdout is written asynchronously and exit() would cut it short.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`asyncapi_validate: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 2;
  },
);
