// Process entry (npm start): one Mailroom process whose role MAILROOM_ROLE picks (all by default: pages and jobs).
import { main } from './main.ts';

await main(process.env);
