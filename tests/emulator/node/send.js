// Sends through the FCM emulator with unmodified firebase-admin for Node, via an HTTPS proxy agent.
// Usage: node send.js CREDENTIALS_JSON_PATH PROXY_URL; prints one JSON object per line.
'use strict';
const { initializeApp, cert } = require('firebase-admin/app');
const { getMessaging } = require('firebase-admin/messaging');
const { HttpsProxyAgent } = require('https-proxy-agent');

async function main() {
  const [credentialsPath, proxyUrl] = process.argv.slice(2);
  const agent = new HttpsProxyAgent(proxyUrl);
  // cert(path, agent) routes the token request through the agent; httpAgent routes the sends.
  const app = initializeApp({ credential: cert(credentialsPath, agent), httpAgent: agent }, 'emulator');
  const messaging = getMessaging(app);
  const report = (step, fields) => console.log(JSON.stringify({ step, ...fields }));
  try {
    const name = await messaging.send({ token: 'node-device-1', data: { kind: 'friendship' },
      notification: { title: 'From Node' } });
    report('send', { name });
    const dry = await messaging.send({ topic: 'news', data: { k: 'v' } }, true);
    report('dry_run', { name: dry });
  } catch (error) {
    report('error', { code: error.code, message: error.message });
  }
  for (const token of ['node-gone', 'node-reserved']) {
    try {
      const data = token === 'node-reserved' ? { message_type: 'x' } : { k: 'v' };
      await messaging.send({ token, data });
      report(token, { code: null });
    } catch (error) {
      report(token, { code: error.code, message: error.message });
    }
  }
  await app.delete();
}

main().catch((error) => { console.error(error); process.exit(1); });
