// The CSV of a mailbox import: reading an uploaded file (csv-parse, RFC 4180: quotes, commas and line breaks in
// fields, a BOM) into rows by header name, and writing CSV back (the template, the failed rows) with RFC 4180 quoting
// and spreadsheet formulas defused.
import { parse } from 'csv-parse/sync';

/** The columns, in the template's order: the header names an admin sees, and the field each fills. */
export const COLUMNS = [
  { header: 'Name', field: 'name' },
  { header: 'Email Address', field: 'emailAddress' },
  { header: 'Owner Email', field: 'ownerEmail' },
  { header: 'Server Profile', field: 'profileName' },
  { header: 'Incoming Email', field: 'incomingEmail' },
  { header: 'Outgoing Email', field: 'outgoingEmail' },
] as const;
export type Field = (typeof COLUMNS)[number]['field'];
export type CsvRow = { line: number } & Record<Field, string>;

/** Other spellings a header may have (compared lower-case, letters and digits only). */
const ALIASES: Record<string, Field> = {
  name: 'name',
  mailboxname: 'name',
  emailaddress: 'emailAddress',
  email: 'emailAddress',
  address: 'emailAddress',
  owneremail: 'ownerEmail',
  owner: 'ownerEmail',
  serverprofile: 'profileName',
  profilename: 'profileName',
  profile: 'profileName',
  emailserverprofile: 'profileName',
  incomingemail: 'incomingEmail',
  incoming: 'incomingEmail',
  outgoingemail: 'outgoingEmail',
  outgoing: 'outgoingEmail',
};
const REQUIRED: Field[] = ['name', 'emailAddress', 'ownerEmail', 'profileName'];

export const MAX_ROWS = 5_000;
const MAX_FIELD = 1_000;

export class CsvFileError extends Error {}

const key = (h: string) => h.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The rows of a CSV file by column; throws CsvFileError with a message for the admin when the file is unusable. */
export function readCsv(bytes: Buffer): CsvRow[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CsvFileError('The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.');
  }
  if (text.includes('\0')) throw new CsvFileError('The file is not a CSV text file.');
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      max_record_size: 20 * MAX_FIELD,
      to: MAX_ROWS + 2, // the header, the rows allowed, and one more to tell "too many"
    }) as string[][];
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new CsvFileError(
      `The file is not valid CSV${line ? ` near line ${line}` : ''}: ${(e as Error).message.replace(/^Invalid Record Length: /, '')}`,
    );
  }
  const [header, ...data] = records;
  if (!header) throw new CsvFileError('The file is empty. Download the template, fill it in and upload it.');
  if (header.length === 1 && /[;\t]/.test(header[0]))
    throw new CsvFileError(
      'The columns are separated by semicolons or tabs: save the file as CSV with commas (the template shows how).',
    );
  const fields = header.map((h) => ALIASES[key(h)]);
  const missing = REQUIRED.filter((f) => !fields.includes(f));
  if (missing.length)
    throw new CsvFileError(
      `The first line must name the columns ${COLUMNS.map((c) => c.header).join(', ')}. Missing: ${missing
        .map((f) => COLUMNS.find((c) => c.field === f)!.header)
        .join(', ')}.`,
    );
  if (!data.length) throw new CsvFileError('The file has a header but no rows.');
  if (data.length > MAX_ROWS)
    throw new CsvFileError(
      `The file has more than ${MAX_ROWS.toLocaleString('en-US')} rows: split it into smaller files.`,
    );
  return data.map((cells, i) => {
    const row = {
      line: i + 2,
      name: '',
      emailAddress: '',
      ownerEmail: '',
      profileName: '',
      incomingEmail: '',
      outgoingEmail: '',
    };
    fields.forEach((f, j) => {
      if (f) row[f] = (cells[j] ?? '').trim().slice(0, MAX_FIELD);
    });
    return row;
  });
}

/** One CSV field: quoted when it must be; a leading = + - @ (a formula to a spreadsheet) is defused with a quote. */
export function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLines(rows: string[][]): string {
  return `${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export function templateCsv(example: { ownerEmail: string; profileName: string }): string {
  return csvLines([
    COLUMNS.map((c) => c.header),
    [
      'Sales',
      'sales@example.com',
      example.ownerEmail,
      example.profileName,
      'Server-Side Synchronization',
      'Server-Side Synchronization',
    ],
  ]);
}
