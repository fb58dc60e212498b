// Process entry (npm run worker): a worker-only Mailroom process (MAILROOM_ROLE=worker) on the PostgreSQL of DATABASE_URL.
import { main } from './main.ts';

await main({ ...process.env, MAILROOM_ROLE: 'worker' });
