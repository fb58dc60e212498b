// Every operation of /api/v1, one list per feature: what routes.ts serves and openapi.ts documents.
import type { AppDeps } from '../deps.ts';
import type { Operation } from './define.ts';
import { profileOperations } from './resources/profiles.ts';
import { mailboxOperations } from './resources/mailboxes.ts';
import { alertOperations } from './resources/alerts.ts';
import { emailOperations } from './resources/emails.ts';
import { emailSendOperations } from './resources/email-send.ts';
import { adminOperations } from './resources/admin.ts';

export function operations(deps: AppDeps): Operation[] {
  return [
    ...adminOperations(deps),
    ...profileOperations(deps),
    ...mailboxOperations(deps),
    ...alertOperations(deps),
    ...emailOperations(deps),
    ...emailSendOperations(deps),
  ];
}
