// whenExact: the date is left out exactly when the moment is on now's UTC day (midnight on either side, before 1970).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { whenExact } from '../../src/mailboxes/labels.ts';

test('whenExact leaves the date out only on the same UTC day', () => {
  const now = new Date('2026-12-02T23:59:59.999Z');
  assert.equal(whenExact(new Date('2026-12-02T00:00:00.000Z'), now), '00:00:00 UTC');
  assert.equal(whenExact(new Date('2026-12-01T23:59:59.999Z'), now), '2026-12-01 23:59:59 UTC');
  assert.equal(whenExact(new Date('2026-12-03T00:00:00.000Z'), now), '2026-12-03 00:00:00 UTC');
  assert.equal(whenExact(new Date('2026-12-02T13:26:04.500Z'), now.getTime()), '13:26:04 UTC');
  assert.equal(whenExact(new Date('1969-12-31T12:00:00Z'), new Date('1969-12-31T00:00:00Z')), '12:00:00 UTC');
  assert.equal(
    whenExact(new Date('1969-12-31T12:00:00Z'), new Date('1970-01-01T00:00:00Z')),
    '1969-12-31 12:00:00 UTC',
  );
  assert.equal(whenExact(null, now), '—');
});
