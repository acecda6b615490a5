// Host mode: firebase-admin for Node's sendEach (HTTP/2 via http2.connect, which ignores proxies).
// Usage: node send_each.js CREDENTIALS_JSON_PATH; expects fcm/oauth2.googleapis.com to resolve locally.
'use strict';
const { initializeApp, cert } = require('firebase-admin/app');
const { getMessaging } = require('firebase-admin/messaging');

async function main() {
  const app = initializeApp({ credential: cert(process.argv[2]) }, 'host-mode');
  const result = await getMessaging(app).sendEach([
    { token: 'node-h2-1', data: { n: '1' } },
    { token: 'node-h2-2', data: { n: '2' } },
  ]);
  console.log(JSON.stringify({
    success: result.successCount,
    errors: result.responses.filter((r) => !r.success).map((r) => r.error.code),
  }));
  await app.delete();
}

main().catch((error) => { console.error(error); process.exit(1); });
