// Sample profile form bodies (a valid Gmail OAuth profile, with overrides) for dev seeding and tests.
import { presetValues } from './presets.ts';

export type ProfileFormBody = Record<string, string>;

export function sampleProfileForm(over: ProfileFormBody = {}): ProfileFormBody {
  const gmail = presetValues('gmail-imap');
  return {
    name: 'Gmail',
    description: '',
    serverType: String(gmail.serverType),
    incomingServer: String(gmail.incomingServer),
    incomingPort: String(gmail.incomingPort),
    incomingUseSsl: 'on',
    outgoingServer: String(gmail.outgoingServer),
    outgoingPort: String(gmail.outgoingPort),
    outgoingSecurity: String(gmail.outgoingSecurity),
    authenticateUsing: 'GMAIL_OAUTH',
    oauthClientId: '1234567890-sample.apps.googleusercontent.com',
    oauthClientSecret: 'GOCSPX-sample-client-secret',
    maxConcurrentConnections: String(gmail.maxConcurrentConnections),
    minPollingIntervalMinutes: '0',
    processEmailFrom: '',
    ...over,
  };
}
