// Prisma CLI configuration. The app never runs the CLI against a database: migrations are applied
// by src/db/migrate.ts. This file exists so `prisma generate` knows where the schema is.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
