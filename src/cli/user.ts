// `npm run user -- add --email a@b.c --name "Ada" --role ADMIN [--password …]` and `npm run user -- list`.
// Without --password the password is read from MAILROOM_PASSWORD or prompted (never put it in shell history).
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline/promises';
import { loadConfig, ConfigError } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { lockDataDir, DataDirLockedError } from '../db/lock.ts';
import { migrate } from '../db/migrate.ts';
import { createUser, newUserSchema, DuplicateEmailError } from '../auth/users.ts';
import { audit } from '../security/audit.ts';

const USAGE =
  'usage: npm run user -- add --email EMAIL --name NAME [--role ADMIN|USER] [--password PW]\n       npm run user -- list';

async function readPassword(): Promise<string> {
  if (process.env.MAILROOM_PASSWORD) return process.env.MAILROOM_PASSWORD;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question('Password (at least 10 characters): ');
  } finally {
    rl.close();
  }
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      password: { type: 'string' },
    },
  });
  const cmd = positionals[0];
  if (cmd !== 'add' && cmd !== 'list') {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const release = config.databaseUrl ? () => undefined : lockDataDir(config.dataDir);
  const db = await openDatabase(config);
  try {
    await migrate(db);
    if (cmd === 'list') {
      for (const u of await db.prisma.user.findMany({ orderBy: { email: 'asc' } }))
        console.log(`${u.email}\t${u.role}\t${u.disabledAt ? 'disabled' : 'active'}\t${u.name}`);
      return 0;
    }
    const parsed = newUserSchema.safeParse({
      email: values.email,
      name: values.name ?? values.email,
      role: (values.role ?? 'USER').toUpperCase(),
      password: values.password ?? (await readPassword()),
    });
    if (!parsed.success) {
      for (const i of parsed.error.issues) console.error(`${i.path.join('.')}: ${i.message}`);
      return 2;
    }
    try {
      const user = await createUser(db.prisma, parsed.data);
      await audit(db.prisma, {
        action: 'user.create',
        targetType: 'User',
        targetId: user.id,
        details: { email: user.email, role: user.role, via: 'cli' },
      });
      console.log(`Added ${user.role === 'ADMIN' ? 'administrator' : 'user'} ${user.email}`);
      return 0;
    } catch (e) {
      if (e instanceof DuplicateEmailError) {
        console.error(e.message);
        return 1;
      }
      throw e;
    }
  } finally {
    await db.close();
    release();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof ConfigError || e instanceof DataDirLockedError) {
      console.error(`mailroom: ${e.message}`);
      process.exit(1);
    }
    console.error(e);
    process.exit(1);
  },
);
