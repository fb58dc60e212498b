// The shape of one mail protocol entry (IMAP, POP3, SMTP): its name, the steps it reports, where its server is in a
// profile, and its probe. Each protocol writes its entry once, in its own file; protocols.ts registers them.
import type { EmailServerProfile } from '../generated/prisma/client.ts';
import type { Endpoint, ProbeOptions, Step } from './types.ts';

/** Also the error map's context (mapError's `protocol`): rules that only hold for one protocol key on it. */
export type ProtocolId = 'imap' | 'pop3' | 'smtp';
export type Direction = 'incoming' | 'outgoing';
export interface StepDef {
  readonly id: string;
  readonly label: string;
}

export type ProfileServers = Pick<
  EmailServerProfile,
  'incomingServer' | 'incomingPort' | 'incomingUseSsl' | 'outgoingServer' | 'outgoingPort' | 'outgoingSecurity'
>;

export interface MailProtocol {
  readonly id: ProtocolId;
  /** The admins' name for it: "IMAP", "POP3", "SMTP". */
  readonly label: string;
  readonly direction: Direction;
  /** What its probe reports, in order; a run that cannot reach the probe reports them as skipped. */
  readonly steps: readonly StepDef[];
  /** Where the profile says its server is. */
  endpoint(profile: ProfileServers): Endpoint;
  /** Test & Enable's check: sign in and look at the mailbox (or, outgoing, sign in and optionally send). */
  probe(o: ProbeOptions): Promise<Step[]>;
}

export const incomingEndpoint = (p: ProfileServers): Endpoint => ({
  host: p.incomingServer,
  port: p.incomingPort,
  secure: p.incomingUseSsl,
});

export const outgoingEndpoint = (p: ProfileServers): Endpoint => ({
  host: p.outgoingServer,
  port: p.outgoingPort,
  secure: p.outgoingSecurity === 'SSL',
  starttls: p.outgoingSecurity === 'STARTTLS',
});
