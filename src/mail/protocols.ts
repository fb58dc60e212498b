// The registry of mail protocols: incoming by the profile's Server Type, outgoing SMTP. A new protocol is one entry
// here plus its own file; nothing else chooses a probe or writes its step labels.
import type { EmailServerProfile } from '../generated/prisma/client.ts';
import type { ServerType } from '../generated/prisma/enums.ts';
import type { MailProtocol } from './protocol.ts';
import { imap } from './imap.ts';
import { pop3 } from './pop3.ts';
import { smtp } from './smtp.ts';

export interface ProtocolRegistry {
  incomingFor(profile: Pick<EmailServerProfile, 'serverType'>): MailProtocol;
  outgoingFor(profile: Pick<EmailServerProfile, 'serverType'>): MailProtocol;
}

const INCOMING: Record<ServerType, MailProtocol> = { IMAP: imap, POP3: pop3 };

export const mailProtocols: ProtocolRegistry = {
  incomingFor: (profile) => INCOMING[profile.serverType],
  outgoingFor: () => smtp,
};
