// The CSV import's pure parts: reading a file (RFC 4180 quoting, BOM, header spellings, refusals) and writing one back
// (quoting, formulas defused); each row's check against a lookup (methods, owner, profile, duplicates, the cap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvFileError, csvField, csvLines, readCsv } from '../../src/imports/csv.ts';
import { checkRows, syncMethod, type Lookup } from '../../src/imports/validate.ts';

const HEADER = 'Name,Email Address,Owner Email,Server Profile,Incoming Email,Outgoing Email';

test('reads quoted fields with commas, quotes and line breaks, a BOM, CRLF, and headers in any order or spelling', () => {
  const csv = `\uFEFFprofile,EMAIL,name,owner\r\nP,a@x.test,"Sales, ""EU""\nteam",o@x.test\r\n\r\nP,b@x.test,B,o@x.test\r\n`;
  const rows = readCsv(Buffer.from(csv));
  assert.deepEqual(rows[0], {
    line: 2,
    name: 'Sales, "EU"\nteam',
    emailAddress: 'a@x.test',
    ownerEmail: 'o@x.test',
    profileName: 'P',
    incomingEmail: '',
    outgoingEmail: '',
  });
  assert.equal(rows.length, 2);
});

test('refuses unusable files with a sentence', () => {
  const refuse = (input: string | Buffer, re: RegExp) =>
    assert.throws(
      () => readCsv(Buffer.isBuffer(input) ? input : Buffer.from(input)),
      (e) => e instanceof CsvFileError && re.test(e.message),
    );
  refuse('', /empty/);
  refuse(Buffer.from([0xc3, 0x28]), /not UTF-8/);
  refuse(`${HEADER}\n"open,a,b,c,d,e\n`, /not valid CSV/);
  refuse('Name\tEmail\n', /semicolons or tabs/);
  refuse('Name,Email Address\nA,b@x.test\n', /Missing: Owner Email, Server Profile\./);
  refuse(`${HEADER}\n${'A,a@x.test,o@x.test,P,,\n'.repeat(5001)}`, /more than 5,000 rows/);
});

test('writes RFC 4180 fields and defuses spreadsheet formulas', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('=HYPERLINK("http://evil")'), `"'=HYPERLINK(""http://evil"")"`);
  assert.equal(csvField('+1'), "'+1");
  assert.equal(
    csvLines([
      ['a', 'b'],
      ['c', 'd\ne'],
    ]),
    'a,b\r\nc,"d\ne"\r\n',
  );
  // What is written reads back the same (the formula prefix aside).
  const back = readCsv(Buffer.from(csvLines([HEADER.split(','), ['N, "x"', 'a@x.test', 'o@x.test', 'P', '', '']])));
  assert.equal(back[0].name, 'N, "x"');
});

test('sync methods by label or value; blank is Server-Side Synchronization', () => {
  assert.equal(syncMethod(''), 'SERVER_SIDE_SYNC');
  assert.equal(syncMethod('server-side synchronization'), 'SERVER_SIDE_SYNC');
  assert.equal(syncMethod('EMAIL_ROUTER'), 'EMAIL_ROUTER');
  assert.equal(syncMethod('None'), 'NONE');
  assert.equal(syncMethod('pigeon'), null);
});

test('checks each row: the cap counts the rows before it, duplicates name the first line, existing ones are skipped', () => {
  const owner = '00000000-0000-4000-8000-000000000001';
  const gmail = '00000000-0000-4000-8000-000000000002';
  const lookup: Lookup = {
    owners: new Map([['o@x.test', owner]]),
    profiles: new Map([['gmail', { id: gmail, name: 'Gmail', capacity: 100, used: 99, method: 'Gmail OAuth' }]]),
    existing: new Set(['old@x.test']),
  };
  const row = (line: number, emailAddress: string, o: Partial<Record<string, string>> = {}) => ({
    line,
    name: `Row ${line}`,
    emailAddress,
    ownerEmail: 'O@x.test',
    profileName: 'GMAIL',
    incomingEmail: '',
    outgoingEmail: '',
    ...o,
  });
  const checked = checkRows(
    [
      row(2, 'a@x.test'),
      row(3, 'A@X.test'),
      row(4, 'old@x.test'),
      row(5, 'b@x.test'),
      row(6, 'c@x.test', { ownerEmail: 'nobody@x.test' }),
      row(7, 'd@x.test', { profileName: 'Nope' }),
    ],
    lookup,
  );
  assert.deepEqual(
    checked.map((c) => c.status),
    ['PENDING', 'INVALID', 'EXISTS', 'INVALID', 'INVALID', 'INVALID'],
  );
  assert.match(checked[1].reason ?? '', /Duplicate address: line 2/);
  assert.match(checked[3].reason ?? '', /“Gmail” would serve more than 100 mailboxes/);
  assert.match(checked[4].reason ?? '', /Unknown owner/);
  assert.match(checked[5].reason ?? '', /Unknown email server profile “Nope”/);
});
