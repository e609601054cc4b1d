import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorOf } from '../../src/control/client.js';

test('error bodies: the code/message object, the older plain string, and non-JSON', () => {
  assert.deepEqual(errorOf('{"error":{"code":"ERR_ZONE_NOT_DYNAMIC","message":"zone x. does not take dynamic updates"}}'),
    { message: 'zone x. does not take dynamic updates', code: 'ERR_ZONE_NOT_DYNAMIC' });
  assert.deepEqual(errorOf('{"error":"no route /v1/x"}'), { message: 'no route /v1/x', code: undefined });
  assert.deepEqual(errorOf('Bad Gateway\n'), { message: 'Bad Gateway', code: undefined });
  assert.deepEqual(errorOf('{"other":1}'), { message: '{"other":1}', code: undefined });
});
