// drive.js: IBM's Key Protect Node SDK against tke-emulator (run.sh sets
// it up).  Prints one line per step and exits non-zero on the first failure.
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';
const fs = require('fs');
const KeyProtectV2 = require('@ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2');
const { IamAuthenticator } = require('@ibm-cloud/ibm-key-protect/auth');

const ready = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const instance = ready.instance_id;
const kp = new KeyProtectV2({
  authenticator: new IamAuthenticator({ apikey: ready.api_key, url: ready.url }),
  serviceUrl: ready.url,
});
const plain = Buffer.from('hello from the SDK').toString('base64');
let failed = false;
let passed = 0;
let failures = 0;

async function step(name, fn) {
  try {
    const out = await fn();
    passed++;
    console.log(`ok   ${name}${out ? ': ' + out : ''}`);
  } catch (e) {
    failed = true;
    failures++;
    console.log(`FAIL ${name}: ${e.status || ''} ${e.message}`);
  }
}

(async () => {
  let id, wrapped, versionsBefore, latestVersion, rewrapped;
  await step('getKeys', async () => {
    const r = await kp.getKeys({ bluemixInstance: instance, limit: 5 });
    return `${r.result.resources.length} keys, total ${r.result.metadata.collectionTotal}`;
  });
  await step('createKey', async () => {
    const r = await kp.createKey({
      bluemixInstance: instance,
      body: {
        metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
        resources: [{ type: 'application/vnd.ibm.kms.key+json', name: 'sdk-root-key', extractable: false }],
      },
    });
    id = r.result.resources[0].id;
    return id;
  });
  await step('getKey', async () => {
    const r = await kp.getKey({ bluemixInstance: instance, id });
    return `state ${r.result.resources[0].state}`;
  });
  await step('wrapKey with aad', async () => {
    const r = await kp.wrapKey({ bluemixInstance: instance, id,
      keyActionWrapBody: { plaintext: plain, aad: ['sdk', 'test'] } });
    wrapped = r.result.ciphertext;
    if (!r.result.keyVersion || r.result.keyVersion.id !== id) throw new Error('no keyVersion');
    return `keyVersion ${JSON.stringify(r.result.keyVersion)}`;
  });
  await step('unwrapKey with aad', async () => {
    const r = await kp.unwrapKey({ bluemixInstance: instance, id,
      keyActionUnwrapBody: { ciphertext: wrapped, aad: ['sdk', 'test'] } });
    if (r.result.plaintext !== plain) throw new Error('wrong plaintext');
    return 'plaintext matches';
  });
  await step('unwrapKey with wrong aad is refused', async () => {
    try {
      await kp.unwrapKey({ bluemixInstance: instance, id,
        keyActionUnwrapBody: { ciphertext: wrapped, aad: ['other'] } });
    } catch (e) { return `refused ${e.status || e.code} ${e.message}`; }
    throw new Error('accepted');
  });
  await step('wrapKey without plaintext (data key)', async () => {
    const r = await kp.wrapKey({ bluemixInstance: instance, id, keyActionWrapBody: {} });
    if (!r.result.plaintext || !r.result.ciphertext) throw new Error('no data key');
    return 'data key and ciphertext';
  });
  await step('getKeyVersions', async () => {
    const r = await kp.getKeyVersions({ bluemixInstance: instance, id });
    versionsBefore = r.result.resources.length;
    return `${versionsBefore} versions`;
  });
  await step('rotateKey', async () => {
    const r = await kp.rotateKey({ bluemixInstance: instance, id, keyActionRotateBody: {} });
    return `status ${r.status}`;
  });
  await step('getKeyVersions after the rotate', async () => {
    const r = await kp.getKeyVersions({ bluemixInstance: instance, id });
    const n = r.result.resources.length;
    if (n !== versionsBefore + 1) throw new Error(`${n} versions, not ${versionsBefore + 1}`);
    latestVersion = r.result.resources[n - 1].id;
    return `${n} versions`;
  });
  await step('unwrapKey of a ciphertext from before the rotate', async () => {
    const r = await kp.unwrapKey({ bluemixInstance: instance, id,
      keyActionUnwrapBody: { ciphertext: wrapped, aad: ['sdk', 'test'] } });
    if (r.result.plaintext !== plain) throw new Error('wrong plaintext');
    if (!r.result.rewrappedKey || r.result.keyVersion.id !== id ||
        r.result.rewrappedKeyVersion.id !== latestVersion)
      throw new Error(`no rewrappedKey or wrong versions: ${JSON.stringify(r.result)}`);
    rewrapped = r.result.rewrappedKey;
    return 'rewrappedKey given, keyVersion is the first version';
  });
  await step('unwrapKey of the rewrappedKey', async () => {
    const r = await kp.unwrapKey({ bluemixInstance: instance, id,
      keyActionUnwrapBody: { ciphertext: rewrapped, aad: ['sdk', 'test'] } });
    if (r.result.plaintext !== plain || r.result.keyVersion.id !== latestVersion)
      throw new Error('wrong plaintext or version');
    return 'plaintext matches, latest version';
  });
  await step('rewrapKey to the latest version', async () => {
    const r = await kp.rewrapKey({ bluemixInstance: instance, id,
      keyActionRewrapBody: { ciphertext: wrapped, aad: ['sdk', 'test'] } });
    if (!r.result.ciphertext || r.result.rewrappedKeyVersion.id !== latestVersion)
      throw new Error(`wrong answer: ${JSON.stringify(r.result)}`);
    return 'ciphertext under the latest version';
  });
  await step('disableKey', async () => {
    const r = await kp.disableKey({ bluemixInstance: instance, id });
    return `status ${r.status}`;
  });
  await step('wrapKey on a disabled key is refused', async () => {
    try {
      await kp.wrapKey({ bluemixInstance: instance, id, keyActionWrapBody: { plaintext: plain } });
    } catch (e) { return `refused ${e.status || e.code} ${e.message}`; }
    throw new Error('accepted');
  });
  await step('getKeys state=[2] (suspended)', async () => {
    const r = await kp.getKeys({ bluemixInstance: instance, state: [2] });
    return `${r.result.resources.length} suspended`;
  });
  await step('enableKey', async () => {
    const r = await kp.enableKey({ bluemixInstance: instance, id });
    return `status ${r.status}`;
  });
  await step('deleteKey', async () => {
    const r = await kp.deleteKey({ bluemixInstance: instance, id });
    return `status ${r.status}`;
  });
  console.log(`${passed} of ${passed + failures} steps passed`);
  process.exit(failed ? 1 : 0);
})();
