// Judge (schema, instance) pairs with ajv (JSON Schema 2020-12), a validator independent of Python's.
//
// Usage: node ajv_verdicts.js SCHEMA_DIR < pairs.json
// SCHEMA_DIR: every *.json in it whose $schema is the 2020-12 meta-schema is added to ajv by its
// $id (so absolute $refs between the files resolve), after ajv checked it against the meta-schema.
// stdin: [{"id": "...", "schema": <schema object, or an absolute URI string>, "instance": <any>}]
// stdout: {"schemas": {file: null or "error text"},
//          "verdicts": {id: {"valid": bool, "errors": [{"instancePath", "keyword", "message"}]}}}
// Exit codes: 0 every schema loaded and every pair judged (whatever the verdicts), 1 a schema did
// not load or a pair's schema did not compile (named in the output), 2 usage or crash.
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

function newAjv() {
  // strictSchema refuses unknown keywords and formats, so no schema leans on a lenient engine.
  // Two of ajv's strict checks are style opinions, not JSON Schema semantics, and are off:
  // strictRequired (a `required` key not listed in `properties`, as rules.schema.json's roles
  // map does with additionalProperties) and strictTypes (a keyword without a sibling `type`, as
  // the strict-mode wrapper {"$ref", "unevaluatedProperties": false} has by design).
  const ajv = new Ajv2020({
    strict: true,
    strictRequired: false,
    strictTypes: false,
    allowUnionTypes: true,
    allErrors: true,
  });
  addFormats(ajv);
  return ajv;
}

function loadSchemas(ajv, dir) {
  const status = {};
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    if (schema.$schema !== DRAFT_2020_12) continue; // rules.json is an instance, not a schema
    try {
      if (!ajv.validateSchema(schema)) throw new Error(ajv.errorsText(ajv.errors));
      ajv.addSchema(schema);
      status[name] = null;
    } catch (err) {
      status[name] = String(err.message || err);
    }
  }
  // Compile each only after all are added: their $refs point at one another.
  for (const name of Object.keys(status).filter((n) => status[n] === null)) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    try {
      ajv.getSchema(schema.$id);
    } catch (err) {
      status[name] = String(err.message || err);
    }
  }
  return status;
}

function main() {
  const dir = process.argv[2];
  if (!dir || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    process.stderr.write(`usage: node ajv_verdicts.js SCHEMA_DIR < pairs.json (got ${JSON.stringify(dir)})\n`);
    return 2;
  }
  const ajv = newAjv();
  const schemas = loadSchemas(ajv, dir);
  const pairs = JSON.parse(fs.readFileSync(0, 'utf8'));
  const compiled = new Map();
  const verdicts = {};
  let broken = Object.values(schemas).some((s) => s !== null);
  for (const pair of pairs) {
    const key = typeof pair.schema === 'string' ? pair.schema : JSON.stringify(pair.schema);
    if (!compiled.has(key)) {
      // A failure is remembered too: compiling a schema with an $id twice would fail differently.
      try {
        const validate = typeof pair.schema === 'string' ? ajv.getSchema(pair.schema) : ajv.compile(pair.schema);
        compiled.set(key, validate || new Error(`no schema with $id ${pair.schema}`));
      } catch (err) {
        compiled.set(key, err);
      }
    }
    const validate = compiled.get(key);
    if (validate instanceof Error) {
      broken = true;
      verdicts[pair.id] = { valid: null, errors: [{ instancePath: '', keyword: 'compile', message: String(validate.message) }] };
      continue;
    }
    const valid = validate(pair.instance);
    verdicts[pair.id] = {
      valid,
      errors: (validate.errors || []).map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, message: e.message })),
    };
  }
  process.stdout.write(JSON.stringify({ schemas, verdicts }) + '\n');
  return broken ? 1 : 0;
}

// exitCode, not exit(): a piped stdout is written asynchronously and exit() would cut it short.
try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`ajv_verdicts: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 2;
}
