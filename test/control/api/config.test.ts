import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../../src/config/load.js';
import { REDACTED, redactConfig } from '../../../src/control/api/config.js';

test('secrets are redacted, the rest of the config is kept', () => {
  const cfg = defaultConfig({
    keys: { k1: { algorithm: 'hmac-sha256', secret: 'c2VjcmV0' } },
    cookies: { enabled: true, secret: '0123456789abcdef0123456789abcdef' },
    control: { tokenFile: '/run/sovereign/token' },
  });
  const r = redactConfig({ ...cfg, extra: { password: 'hunter2', inline: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' } }) as Record<string, any>;
  assert.deepEqual(r.keys.k1, { algorithm: 'hmac-sha256', secret: REDACTED });
  assert.equal(r.cookies.secret, REDACTED);
  assert.equal(r.extra.password, REDACTED);
  assert.equal(r.extra.inline, REDACTED);
  // A path to a secret says where, not what.
  assert.equal(r.control.tokenFile, '/run/sovereign/token');
  assert.deepEqual(r.listen, cfg.listen);
  assert.doesNotMatch(JSON.stringify(r), /c2VjcmV0|0123456789abcdef|hunter2/);
});
